"""The named-array fixture format of the K-Net twins, read by tests/train/knet_check.h:
u32 count, then per array: u32 name length, name (UTF-8), u32 ndim, ndim x u32 dims,
float32 data (little-endian)."""
import struct

import torch


def write_named(path, arrays):
    """arrays: a list of (name, tensor) pairs, written in order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(arrays)))
        for name, a in arrays:
            a = a.detach().to(torch.float32).contiguous()
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            dims = list(a.shape)
            f.write(struct.pack("<I", len(dims)))
            f.write(struct.pack("<%dI" % len(dims), *dims))
            f.write(a.numpy().astype("<f4").tobytes())

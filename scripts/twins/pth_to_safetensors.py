#!/usr/bin/python3
"""Converts a PyTorch state dict (.pth, e.g. torchvision's resnet50-0676ba61.pth) to a
safetensors file that nn_checkpoint_load() reads, without needing the safetensors package.

  /usr/bin/python3 scripts/twins/pth_to_safetensors.py resnet50.pth resnet50.safetensors

Floating tensors are written as F32 (others, like num_batches_tracked, as I64 and are
skipped by the loader with NN_LOAD_ALLOW_UNEXPECTED). Load into a model whose parameters
are named "backbone.conv1.weight", ... with prefix "backbone.".
"""
import json
import struct
import sys

import torch

src, dst = sys.argv[1], sys.argv[2]
sd = torch.load(src, map_location="cpu")
if "state_dict" in sd:
    sd = sd["state_dict"]
header, blobs, off = {"__metadata__": {"format": "pt", "source": src}}, [], 0
for name, t in sd.items():
    t = t.detach().contiguous()
    if t.is_floating_point():
        t, dtype = t.to(torch.float32), "F32"
    else:
        t, dtype = t.to(torch.int64), "I64"
    raw = t.numpy().tobytes()
    header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
js = json.dumps(header, separators=(",", ":")).encode()
js += b" " * ((8 - len(js) % 8) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(js)))
    f.write(js)
    for b in blobs:
        f.write(b)
print("wrote %s: %d tensors, %.1f MB" % (dst, len(sd), off / 1e6))

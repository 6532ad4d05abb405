#!/usr/bin/python3
"""PyTorch twins of the nn ops: writes tests/train/fixtures/nn_<case>.bin.

Run with Debian's python3-torch (1.13): /usr/bin/python3 scripts/twins/nn_fixtures.py
The C suite only reads the committed files; it never needs PyTorch.

File layout (little-endian): u32 count, then per array: u32 ndim, ndim x u32 dims,
prod(dims) x f32. Arrays are listed per case below, inputs first, then outputs/grads.
"""
import os
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "train", "fixtures")


def write(name, arrays):
    path = os.path.join(OUT, "nn_%s.bin" % name)
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(arrays)))
        for a in arrays:
            a = a.detach().to(torch.float32).contiguous()
            dims = list(a.shape) if a.dim() > 0 else [1]
            f.write(struct.pack("<I", len(dims)))
            f.write(struct.pack("<%dI" % len(dims), *dims))
            f.write(a.numpy().astype("<f4").tobytes())
    print("wrote", os.path.relpath(path), [tuple(a.shape) for a in arrays])


def rnd(*shape):
    return (torch.rand(*shape) * 2 - 1).requires_grad_(True)


def grads_of(out, inputs):
    r = torch.rand_like(out) * 2 - 1
    gs = torch.autograd.grad((out * r).sum(), inputs)
    return r, list(gs)


# conv2d: groups, stride, padding, dilation; y and the grads for a random upstream r
for name, (cin, cout, k, s, p, d, g) in {
    "conv2d_g2s2": (4, 6, 3, 2, 1, 1, 2),
    "conv2d_d2": (3, 4, 3, 1, 2, 2, 1),
}.items():
    x, w, b = rnd(2, cin, 9, 8), rnd(cout, cin // g, k, k), rnd(cout)
    y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    r, gs = grads_of(y, [x, w, b])
    write(name, [x, w, b, y, r] + gs)


def aligned_bilinear(t, factor):
    # CondInst (AdelaiDet) aligned_bilinear, the definition we follow
    h, w = t.shape[2:]
    t = F.pad(t, pad=(0, 1, 0, 1), mode="replicate")
    oh, ow = factor * h + 1, factor * w + 1
    t = F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=True)
    t = F.pad(t, pad=(factor // 2, 0, factor // 2, 0), mode="replicate")
    return t[:, :, :oh - 1, :ow - 1]


x = rnd(2, 3, 4, 5)
write("resize", [x,
                 F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False),
                 F.interpolate(x, size=(3, 2), mode="bilinear", align_corners=False),
                 F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
                 aligned_bilinear(x, 4),
                 aligned_bilinear(x, 2)])

# point_sample (Mask2Former): grid_sample(x, 2p - 1, align_corners=False), zero padding
x = rnd(2, 3, 5, 6)
pts = torch.rand(2, 7, 2) * 1.2 - 0.1
y = F.grid_sample(x, (2 * pts - 1).unsqueeze(2), mode="bilinear", padding_mode="zeros",
                  align_corners=False).squeeze(3)
r, gs = grads_of(y, [x])
write("point_sample", [x, pts, y, r] + gs)

# norms
x, g, b = rnd(2, 64, 3, 3), rnd(64), rnd(64)
y = F.group_norm(x, 32, g, b, eps=1e-5)
r, gs = grads_of(y, [x, g, b])
write("groupnorm", [x, g, b, y, r] + gs)
x, g, b = rnd(3, 4, 16), rnd(16), rnd(16)
y = F.layer_norm(x, (16,), g, b, eps=1e-5)
r, gs = grads_of(y, [x, g, b])
write("layernorm", [x, g, b, y, r] + gs)
x = rnd(2, 5, 3, 4)
w, b, m, v = torch.rand(5) + 0.5, torch.rand(5), torch.rand(5), torch.rand(5) + 0.2
y = F.batch_norm(x, m, v, w, b, training=False, eps=1e-5)
write("frozen_bn", [x, w, b, m, v, y])

# activations and pooling
x = rnd(2, 3, 7, 6) * 3
write("act", [x, F.relu(x), F.gelu(x), torch.sigmoid(x), torch.softmax(x, dim=-1),
              F.max_pool2d(x, 3, 2, 1)])

# attention core: q, k, v already projected; bool mask True = not attended; a fully
# masked row attends everywhere (Mask2Former sets such rows to False before attention)
B, Lq, Lk, E, H = 2, 3, 6, 8, 2
q, k, v = rnd(B, Lq, E), rnd(B, Lk, E), rnd(B, Lk, E)
mask = torch.rand(B, Lq, Lk) < 0.4
mask[0, 1, :] = True
mask_eff = mask.clone()
mask_eff[mask_eff.all(-1)] = False
dh = E // H
qh = q.view(B, Lq, H, dh).transpose(1, 2)
kh = k.view(B, Lk, H, dh).transpose(1, 2)
vh = v.view(B, Lk, H, dh).transpose(1, 2)
s = qh @ kh.transpose(-1, -2) / dh ** 0.5
s = s.masked_fill(mask_eff.unsqueeze(1), float("-inf"))
p = s.softmax(-1)
o = (p @ vh).transpose(1, 2).reshape(B, Lq, E)
r, gs = grads_of(o, [q, k, v])
write("attention", [q, k, v, mask.float(), o, r] + gs)

# losses (value and gradient of the summed loss)
x = (torch.rand(4, 12) * 6 - 3).requires_grad_(True)
t = (torch.rand(4, 12) < 0.4).float()
pr = x.sigmoid()
pt = (1 - pr) * t + pr * (1 - t)
fw = (0.25 * t + 0.75 * (1 - t)) * pt.pow(2.0)
focal = (F.binary_cross_entropy_with_logits(x, t, reduction="none") * fw).sum()
bce = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
a = (pr * t).sum(1)
knet = (1 - 2 * a / ((pr * pr).sum(1) + 1e-3 + (t * t).sum(1) + 1e-3)).sum()
entity = (1 - 2 * a / ((pr * pr).sum(1) + (t * t).sum(1) + 1e-5)).sum()
m2f = (1 - (2 * a + 1) / (pr.sum(1) + t.sum(1) + 1)).sum()
vals, grads = [], []
for L in (focal, bce, knet, entity, m2f):
    vals.append(L.detach().reshape(1))
    grads.append(torch.autograd.grad(L, [x], retain_graph=True)[0])
logits = (torch.rand(6, 5) * 4 - 2).requires_grad_(True)
labels = torch.tensor([0, 4, 2, -1, 4, 1])
cw = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.1])
ce = F.cross_entropy(logits, labels, weight=cw, ignore_index=-1)
gce = torch.autograd.grad(ce, [logits])[0]
write("losses", [x, t] + vals + grads + [logits, labels.float(), cw, ce.detach().reshape(1), gce])

# optimisers: 3 steps with fixed gradients
for name, make in {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=1e-2),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
}.items():
    p0 = torch.rand(10) * 2 - 1
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    gs = [torch.rand(10) * 2 - 1 for _ in range(3)]
    for gi in gs:
        p.grad = gi.clone()
        opt.step()
    write("optim_" + name, [p0] + gs + [p.detach()])

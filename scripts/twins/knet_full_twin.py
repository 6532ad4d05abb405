#!/usr/bin/python3
"""PyTorch twin of the feature path of entseg's K-Net full preset (train/knet/knet_resnet50.c
and neck_full in knet_model.c) at small widths: ResNet-50 (torchvision v1.5 Bottlenecks,
FrozenBatchNorm2d, stem and layer1 frozen) -> mmdet FPN (1x1 laterals, nearest top-down,
3x3 outputs) -> K-Net SemanticFPNWrapper (start 0, end 3, upsample_times 2, mmcv
SinePositionalEncoding on the top level, conv_pred + 1 aux conv) -> ConvKernelHead loc_convs /
seg_convs. Written to tests/train/fixtures/knet_full_twin.bin for tests/train/test_knet_full.c:
the input, every parameter, the two feature maps (loc, xf = loc + seg) and the gradient of
every trainable parameter for the loss sum(loc * r_loc) + sum(xf * r_xf).

Run with Debian's python3-torch (1.13; no torchvision needed, FrozenBatchNorm2d is written
out): /usr/bin/python3 scripts/twins/knet_full_twin.py
File layout as scripts/twins/knet_twin.py (little-endian): u32 count, then per array: u32 name
length, name bytes, u32 ndim, ndim x u32 dims, prod(dims) x f32.
"""
import math
import os

import torch
import torch.nn.functional as F
from twin_fixture import write_named

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "train",
                   "fixtures", "knet_full_twin.bin")

# keep in sync with twin_config() in tests/train/test_knet_full.c
STEM, WIDTHS, C, G, H, W = 8, [8, 16, 32, 64], 16, 8, 64, 96
BLOCKS = [3, 4, 6, 3]
P = {}          # name -> tensor, in the C declaration order is not needed (looked up by name)
FROZEN = set()  # names without a gradient


def conv_w(name, cout, cin, k, frozen=False):
    P[name] = (torch.randn(cout, cin, k, k) * math.sqrt(2.0 / (cin * k * k))).requires_grad_(not frozen)
    if frozen:
        FROZEN.add(name)


def bn(name, c):
    P[name + ".weight"] = torch.rand(c) + 0.5
    P[name + ".bias"] = torch.randn(c) * 0.1
    P[name + ".running_mean"] = torch.randn(c) * 0.1
    P[name + ".running_var"] = torch.rand(c) + 0.5
    for s in ("weight", "bias", "running_mean", "running_var"):
        FROZEN.add(name + "." + s)


def trainable(name, t):
    P[name] = t.requires_grad_(True)


def declare():
    conv_w("backbone.conv1.weight", STEM, 3, 7, frozen=True)
    bn("backbone.bn1", STEM)
    cin = STEM
    for l in range(4):
        w, mid, fr = WIDTHS[l], WIDTHS[l] // 4, l < 1
        for b in range(BLOCKS[l]):
            p = "backbone.layer%d.%d." % (l + 1, b)
            conv_w(p + "conv1.weight", mid, cin if b == 0 else w, 1, fr)
            bn(p + "bn1", mid)
            conv_w(p + "conv2.weight", mid, mid, 3, fr)
            bn(p + "bn2", mid)
            conv_w(p + "conv3.weight", w, mid, 1, fr)
            bn(p + "bn3", w)
            if b == 0:
                conv_w(p + "downsample.0.weight", w, cin, 1, fr)
                bn(p + "downsample.1", w)
        cin = w
    for l in range(4):
        trainable("neck.lateral_convs.%d.conv.weight" % l, torch.randn(C, WIDTHS[l], 1, 1) / math.sqrt(WIDTHS[l]))
        trainable("neck.lateral_convs.%d.conv.bias" % l, torch.randn(C) * 0.1)
    for l in range(4):
        trainable("neck.fpn_convs.%d.conv.weight" % l, torch.randn(C, C, 3, 3) / math.sqrt(9 * C))
        trainable("neck.fpn_convs.%d.conv.bias" % l, torch.randn(C) * 0.1)
    mods = ["rpn.localization_fpn.convs_all_levels.%d.conv%d" % (l, j)
            for l in range(4) for j in range(1 if l == 0 else l)]
    for m in mods:
        trainable(m + ".conv.weight", torch.randn(C, C, 3, 3) / math.sqrt(9 * C))
    for m in ("rpn.localization_fpn.conv_pred", "rpn.localization_fpn.aux_convs.0", "rpn.loc_convs.0",
              "rpn.seg_convs.0"):
        mods.append(m)
        trainable(m + ".conv.weight", torch.randn(C, C, 1, 1) / math.sqrt(C))
    for m in mods:
        trainable(m + ".gn.weight", torch.rand(C) + 0.5)
        trainable(m + ".gn.bias", torch.randn(C) * 0.1)


def frozen_bn(x, name):
    # torchvision FrozenBatchNorm2d
    scale = P[name + ".weight"] * (P[name + ".running_var"] + 1e-5).rsqrt()
    shift = P[name + ".bias"] - P[name + ".running_mean"] * scale
    return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)


def bottleneck(x, p, stride, first):
    y = F.relu(frozen_bn(F.conv2d(x, P[p + "conv1.weight"]), p + "bn1"))
    y = F.relu(frozen_bn(F.conv2d(y, P[p + "conv2.weight"], stride=stride, padding=1), p + "bn2"))
    y = frozen_bn(F.conv2d(y, P[p + "conv3.weight"]), p + "bn3")
    s = frozen_bn(F.conv2d(x, P[p + "downsample.0.weight"], stride=stride), p + "downsample.1") if first else x
    return F.relu(y + s)


def resnet(img):
    x = F.relu(frozen_bn(F.conv2d(img, P["backbone.conv1.weight"], stride=2, padding=3), "backbone.bn1"))
    x = F.max_pool2d(x, 3, 2, 1)
    feats = []
    for l in range(4):
        for b in range(BLOCKS[l]):
            x = bottleneck(x, "backbone.layer%d.%d." % (l + 1, b), 2 if b == 0 and l > 0 else 1, b == 0)
        feats.append(x)
    return feats


def sine_encoding(b, h, w, num_feats):
    # mmcv SinePositionalEncoding(num_feats, temperature=10000, normalize=True) of an
    # all-zero mask
    not_mask = torch.ones(b, h, w)
    y_embed = not_mask.cumsum(1, dtype=torch.float32)
    x_embed = not_mask.cumsum(2, dtype=torch.float32)
    eps, scale = 1e-6, 2 * math.pi
    y_embed = y_embed / (y_embed[:, -1:, :] + eps) * scale
    x_embed = x_embed / (x_embed[:, :, -1:] + eps) * scale
    dim_t = torch.arange(num_feats, dtype=torch.float32)
    dim_t = 10000 ** (2 * (dim_t // 2) / num_feats)
    pos_x = x_embed[:, :, :, None] / dim_t
    pos_y = y_embed[:, :, :, None] / dim_t
    pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).view(b, h, w, -1)
    pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).view(b, h, w, -1)
    return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)


def conv_module(x, m, stride=1, padding=0):
    y = F.conv2d(x, P[m + ".conv.weight"], stride=stride, padding=padding)
    return F.relu(F.group_norm(y, G, P[m + ".gn.weight"], P[m + ".gn.bias"], eps=1e-5))


def features(img):
    feats = resnet(img)
    lat = [F.conv2d(feats[l], P["neck.lateral_convs.%d.conv.weight" % l], P["neck.lateral_convs.%d.conv.bias" % l])
           for l in range(4)]
    for l in range(3, 0, -1):  # mmdet FPN top-down, nearest to the finer level's size
        lat[l - 1] = lat[l - 1] + F.interpolate(lat[l], size=lat[l - 1].shape[2:], mode="nearest")
    outs = [F.conv2d(lat[l], P["neck.fpn_convs.%d.conv.weight" % l], P["neck.fpn_convs.%d.conv.bias" % l], padding=1)
            for l in range(4)]
    # SemanticFPNWrapper(start_level=0, end_level=3, upsample_times=2)
    mlvl = []
    for i in range(4):
        x = outs[i]
        if i == 3:
            x = x + sine_encoding(x.shape[0], x.shape[2], x.shape[3], C // 2)
        if i == 0:
            x = conv_module(x, "rpn.localization_fpn.convs_all_levels.0.conv0", stride=2, padding=1)
        for j in range(i):
            x = conv_module(x, "rpn.localization_fpn.convs_all_levels.%d.conv%d" % (i, j), padding=1)
            if j < 2 - (3 - i):
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        mlvl.append(x)
    s = sum(mlvl)
    out = conv_module(s, "rpn.localization_fpn.conv_pred")
    aux = conv_module(s, "rpn.localization_fpn.aux_convs.0")
    loc = conv_module(out, "rpn.loc_convs.0")
    seg = conv_module(aux, "rpn.seg_convs.0")
    return loc, seg + loc


def main():
    declare()
    img = torch.randn(1, 3, H, W)
    loc, xf = features(img)
    r_loc, r_xf = torch.randn_like(loc), torch.randn_like(xf)
    loss = (loc * r_loc).sum() + (xf * r_xf).sum()
    names = [n for n in P if n not in FROZEN]
    grads = torch.autograd.grad(loss, [P[n] for n in names])
    arrays = [("input", img), ("out.loc", loc), ("out.xf", xf), ("r.loc", r_loc), ("r.xf", r_xf)]
    arrays += [("param." + n, P[n]) for n in P]
    arrays += [("grad." + n, g) for n, g in zip(names, grads)]
    write_named(OUT, arrays)
    print("wrote", os.path.relpath(OUT), "%d arrays, %d parameters (%d trainable), loc %s" %
          (len(arrays), len(P), len(names), tuple(loc.shape)))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch twin of train/bench/small_net.h: the same net, loss and optimiser; prints the
milliseconds per training step. Run with Debian's python3-torch (1.13):
  /usr/bin/python3 scripts/twins/small_net.py --threads N --batch 4 --channels 32 --size 64
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--batch", type=int, default=4)
ap.add_argument("--channels", type=int, default=32)
ap.add_argument("--size", type=int, default=64)
ap.add_argument("--steps", type=int, default=20)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
c = a.channels
layers = []
cin = 3
for _ in range(3):
    layers += [nn.Conv2d(cin, c, 3, padding=1), nn.GroupNorm(8, c), nn.ReLU()]
    cin = c
layers.append(nn.Conv2d(c, 1, 1))
net = nn.Sequential(*layers)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
x = torch.rand(a.batch, 3, a.size, a.size)
t = (torch.rand(a.batch, 1, a.size, a.size) > 0.5).float()
times = []
for i in range(a.steps + 3):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(net(x), t)
    loss.backward()
    opt.step()
    dt = (time.perf_counter() - t0) * 1e3
    if i >= 3:
        times.append(dt)
print("pytorch %s step: best %.2f ms, mean %.2f ms (batch %d, %d channels, %dx%d, %d threads, mkldnn %s)" % (
    torch.__version__, min(times), sum(times) / len(times), a.batch, c, a.size, a.size, a.threads,
    torch.backends.mkldnn.is_available()))

"""PyTorch's side of bench/python_fit.py: trains an MLP with Adam on numpy arrays (plain tensor
slicing, shuffled, one thread) and prints {"seconds": wall time of the training loop} as JSON.

    python bench/torch_fit.py X.npy Y.npy --layers 25,15 --batch-size 32 --epochs 40
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("x")
p.add_argument("y")
p.add_argument("--layers", default="25,15")
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--epochs", type=int, default=40)
p.add_argument("--threads", type=int, default=1)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
X = torch.from_numpy(np.load(args.x).astype(np.float32))
Y = torch.from_numpy(np.load(args.y).astype(np.int64).reshape(-1))
sizes = [X.shape[1]] + [int(u) for u in args.layers.split(",")]
mods = []
for a, b in zip(sizes, sizes[1:]):
    mods += [nn.Linear(a, b), nn.ReLU()]
model = nn.Sequential(*mods, nn.Linear(sizes[-1], 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
gen = torch.Generator().manual_seed(0)
started = time.perf_counter()
for epoch in range(args.epochs):
    idx = torch.randperm(X.shape[0], generator=gen)
    xs, ys = X[idx], Y[idx]
    total = 0.0
    for i in range(0, X.shape[0], args.batch_size):
        opt.zero_grad()
        loss = loss_fn(model(xs[i:i + args.batch_size]), ys[i:i + args.batch_size])
        loss.backward()
        opt.step()
        total += loss.item()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "last_loss": total / -(-X.shape[0] // args.batch_size)}))

"""PyTorch reference for the wider MLP (784-128-64-10): seconds of training until the test
accuracy reaches 0.97. Same setting as torch_mnist.py --threads 1 --scaled --shuffle --loader tensor.
Prints one JSON object."""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "baselines"))
from common import load_mnist  # noqa: E402


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    xtr, ytr, xte, yte = load_mnist()
    Xtr = torch.from_numpy(xtr.reshape(-1, 784).astype(np.float32)) / 255.0
    Xte = torch.from_numpy(xte.reshape(-1, 784).astype(np.float32)) / 255.0
    Ytr, Yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_s, result = 0.0, {"wide_epochs_to_097": None, "wide_seconds_to_097": None}
    for epoch in range(1, 21):
        t0 = time.perf_counter()
        idx = torch.randperm(Xtr.shape[0], generator=gen)
        X, Y = Xtr[idx], Ytr[idx]
        for i in range(0, X.shape[0], 64):
            loss = loss_fn(model(X[i:i + 64]), Y[i:i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
        train_s += time.perf_counter() - t0
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == Yte).float().mean().item()
        if acc >= 0.97:
            result = {"wide_epochs_to_097": epoch, "wide_seconds_to_097": train_s, "wide_test_accuracy": acc}
            break
    print(json.dumps(result))


if __name__ == "__main__":
    main()

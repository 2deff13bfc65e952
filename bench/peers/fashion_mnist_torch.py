#!/usr/bin/env python3
"""PyTorch peer of Ember's Fashion-MNIST epoch benchmark (bench/run-train.sh).

Trains the same CNN as examples' FashionMnistTrain (Conv2d(1,32,3,p1)-ReLU-MaxPool2 ->
Conv2d(32,64,3,p1)-ReLU-MaxPool2 -> Flatten -> Linear(3136,128)-ReLU -> Linear(128,10),
CrossEntropy, SGD lr 0.05 momentum 0.9, batch 64, seed 0) for two epochs on the same IDX files (each timed: the first is cold),
then times a tiny autograd graph, y = (x*w + b).sum() on 4-element tensors, forward+backward.
Prints "peer <name> <value> <unit>" lines last. Run it with OMP_NUM_THREADS=2
OPENBLAS_NUM_THREADS=1 (its fastest setting on the 2-core machine).
"""
import gzip
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not a uint8 IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(directory, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - 0.2860) / 0.3530
    return x, torch.from_numpy(labels.astype(np.int64))


def model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def epochs(directory, batch, count):
    """Trains `count` epochs of one model; returns each epoch's seconds and the final accuracies."""
    torch.manual_seed(0)
    x, y = load(directory, "train")
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for e in range(count):
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(e))
        start = time.perf_counter()
        correct = train_epoch(net, opt, loss_fn, x, y, perm, batch)
        seconds.append(time.perf_counter() - start)
    tx, ty = load(directory, "test")
    net.eval()
    with torch.no_grad():
        test_correct = sum((net(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item() for i in range(0, len(tx), 1000))
    return seconds, len(x), correct / len(x), test_correct / len(tx)


def train_epoch(net, opt, loss_fn, x, y, perm, batch):
    net.train()
    correct = 0
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        xb, yb = x[idx], y[idx]
        out = net(xb)
        loss = loss_fn(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct += (out.argmax(1) == yb).sum().item()
    return correct


def tiny_graph(iterations=200000):
    x = torch.randn(4)
    w = torch.randn(4, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations // 5):
            y = (x * w + b).sum()
            y.backward()
            w.grad = None
            b.grad = None
        best = min(best, (time.perf_counter() - start) / (iterations // 5))
    return best * 1e6


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    batch = 64
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    seconds, n, train_acc, test_acc = epochs(directory, batch, 2)
    tiny = tiny_graph()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"train accuracy {train_acc:.4f}, test accuracy after 2 epochs {test_acc:.4f}")
    print(f"peer torch_epoch1_seconds {seconds[0]:.2f} s")
    print(f"peer torch_epoch2_seconds {seconds[1]:.2f} s")
    print(f"peer torch_images_per_second {n / seconds[0]:.0f} img/s")
    print(f"peer torch_test_accuracy {100 * test_acc:.2f} %")
    print(f"peer torch_peak_rss {peak_mib:.0f} MiB")
    print(f"peer torch_tiny_graph {tiny:.2f} us")


if __name__ == "__main__":
    main()

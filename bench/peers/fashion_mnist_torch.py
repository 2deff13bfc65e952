#!/usr/bin/env python3
"""PyTorch peer of Ember's Fashion-MNIST epoch benchmark (TrainEpochBench): on the CPU for
bench/run-train.sh, on the GPU (--device cuda) for ci/gpu-run.

Trains the same CNN as examples' FashionMnistTrain (Conv2d(1,32,3,p1)-ReLU-MaxPool2 ->
Conv2d(32,64,3,p1)-ReLU-MaxPool2 -> Flatten -> Linear(3136,128)-ReLU -> Linear(128,10),
CrossEntropy, SGD lr 0.05 momentum 0.9, batch 64, seed 0) for --epochs epochs (default 2) on the
same IDX files, each timed (the first is cold; "warm" is the best of the later ones), then, on
the CPU, times a tiny autograd graph, y = (x*w + b).sum() on 4-element tensors, forward+backward.

  fashion_mnist_torch.py [--device cpu|cuda] [--epochs N] [DATA_DIR]

On the GPU the model lives on the device, each batch is gathered on the host and copied over
before its step (as Ember's benchmark does), the step reads its accuracy and loss back once
after the update; torch.backends.cudnn.benchmark and TF32 are left at PyTorch's defaults, as
Ember's are (convolution algorithms from cuDNN's heuristics; cuDNN convolutions may use TF32,
matmul does not). Exits 77 (skipped) when --device cuda finds no usable torch or GPU.

Prints "peer <name> <value> <unit>" lines last. On the CPU, run it with OMP_NUM_THREADS=2
OPENBLAS_NUM_THREADS=1 (its fastest setting on the 2-core machine).
"""
import argparse
import gzip
import os
import resource
import struct
import sys
import time

SKIP = 77

try:
    import numpy as np
    import torch
    import torch.nn as nn
except Exception as e:  # ImportError, or a broken install failing inside torch's own imports
    print(f"fashion_mnist_torch: skipped: torch is not importable ({type(e).__name__}: {e})", flush=True)
    sys.exit(SKIP)


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


def epochs(directory, batch, count, device):
    """Trains `count` epochs of one model; returns each epoch's seconds and the final accuracies."""
    torch.manual_seed(0)
    x, y = load(directory, "train")
    net = model().to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for e in range(count):
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(e))
        start = time.perf_counter()
        correct = train_epoch(net, opt, loss_fn, x, y, perm, batch, device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - start)
        print(f"epoch {e + 1}: {seconds[-1]:.3f} s, train accuracy {correct / len(x):.4f}", flush=True)
    tx, ty = load(directory, "test")
    net.eval()
    with torch.no_grad():
        test_correct = sum((net(tx[i:i + 1000].to(device)).argmax(1) == ty[i:i + 1000].to(device)).sum().item()
                           for i in range(0, len(tx), 1000))
    return seconds, len(x), correct / len(x), test_correct / len(tx)


def train_epoch(net, opt, loss_fn, x, y, perm, batch, device):
    """One pass; batches are gathered on the host and copied to `device` (a no-op on the CPU)."""
    net.train()
    correct = 0
    loss_sum = 0.0
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        xb, yb = x[idx].to(device), y[idx].to(device)
        out = net(xb)
        loss = loss_fn(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # The step's one wait for the device (on the GPU), as Ember's benchmark reads it back.
        correct += (out.argmax(1) == yb).sum().item()
        loss_sum += loss.item() * len(idx)
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
    parser = argparse.ArgumentParser(description="PyTorch peer of Ember's Fashion-MNIST epoch benchmark")
    parser.add_argument("data", nargs="?", default="/usr/share/datasets/fashion-mnist",
                        help="folder of the four IDX files (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs to train and time (default: 2)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            print(f"fashion_mnist_torch: skipped: torch {torch.__version__} sees no CUDA device", flush=True)
            sys.exit(SKIP)
        if device.index is None:  # set_device and get_device_name want an index: "cuda" means the current one
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
        print(f"torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}) on "
              f"{torch.cuda.get_device_name(device)}; cudnn.benchmark {torch.backends.cudnn.benchmark}, cudnn.allow_tf32 "
              f"{torch.backends.cudnn.allow_tf32}, matmul.allow_tf32 {torch.backends.cuda.matmul.allow_tf32}", flush=True)
    else:
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    batch = 64
    seconds, n, train_acc, test_acc = epochs(args.data, batch, args.epochs, device)
    tiny = tiny_graph() if device.type == "cpu" else None
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"train accuracy {train_acc:.4f}, test accuracy after {args.epochs} epochs {test_acc:.4f}")
    print()
    print(f"peer torch_epoch1_seconds {seconds[0]:.3f} s")
    if len(seconds) >= 2:
        print(f"peer torch_epoch2_seconds {seconds[1]:.3f} s")
        print(f"peer torch_epoch_warm_seconds {min(seconds[1:]):.3f} s")
    print(f"peer torch_images_per_second {n / seconds[0]:.0f} img/s")
    print(f"peer torch_test_accuracy {100 * test_acc:.2f} %")
    print(f"peer torch_peak_rss {peak_mib:.0f} MiB")
    if tiny is not None:
        print(f"peer torch_tiny_graph {tiny:.2f} us")


if __name__ == "__main__":
    main()

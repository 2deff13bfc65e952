#!/usr/bin/env python3
"""PyTorch on the same GPU, beside Ember's GPU op benchmarks (bench/src/main/java/dev/ember/bench/gpu).

Measures what these Ember benchmarks measure, the same way:

  MemoryBoundGpuBench.add         add_<bytes>             GB/s   a + b, two 256 MiB float32 tensors, 3 x 256 MiB moved
  MemoryBoundGpuBench.sum         sum_<bytes>             GB/s   x.sum() of a 256 MiB float32 tensor, 256 MiB read
  SoftmaxGpuBench.softmax         softmax_<n>             ms     torch.softmax(x, dim=-1), x n x n float32
  GemmGpuBench.matmul             gemm_<dtype>_<n>        TFLOP/s  a @ b, n x n (2 n^3 flops); float32 with
                                                                 torch.backends.cuda.matmul.allow_tf32 = False
  ConvGpuBench.forward            conv_fwd_ms             ms     conv2d [64,64,56,56] * [64,64,3,3], padding 1, no bias
  ConvGpuBench.forwardBackward    conv_fwdbwd_ms          ms     the same, then backward into input and weight
                                                                 (both with torch.backends.cudnn.allow_tf32 = True, the
                                                                 default: Ember's tf32=on)
                                  conv_*_ms_notf32        ms     both again with cudnn.allow_tf32 = False (tf32=off)
                                  conv_*_timed            ms     all four again with cudnn.benchmark = True
                                                                 (Ember's algorithms=timed); the others with
                                                                 PyTorch's default, False (algorithms=heuristic)
  TinyOpGpuBench.add              tiny_add_us             us     a + b on 1-element float32 tensors, result dropped

As in the Ember benchmarks, one timed batch queues several ops back to back on the current
stream and then waits for it (torch.cuda.synchronize before and after, perf_counter around): as
many ops as the Ember benchmark queues per invocation. After a warm-up of WARMUP_S seconds
(which also lets cudnn.benchmark time its algorithms), each of RUNS runs repeats such batches
for at least RUN_S seconds; the result is the median over the runs of the time per op.
Inputs are uniform [0, 1), as Ember's are (constants for add and sum, where only bytes count).

Output: progress lines first, then, last and without blank lines between them, one line per
result in the format ci/gpu-run reads:

  peer <name> <value> <unit>

Exits 77 (skipped) with a message when torch is missing or sees no CUDA device.
"""

import statistics
import sys
import time

import peer_common

ADD_SUM_BYTES = 256 * 1024 * 1024
BATCH_BYTES = 1024 * 1024 * 1024  # traffic queued per batch by the add and sum benchmarks
SOFTMAX_N = 8192
GEMM_N = 8192
CONV_BATCH, CONV_CHANNELS, CONV_SIZE = 64, 64, 56
TINY_OPS = 1000
WARMUP_S = 1.0
RUN_S = 0.5
RUNS = 5
GB = 1e9
torch = peer_common.cuda_torch("gpu_ops_peer")
import torch.nn.functional as F  # noqa: E402 (after the check that torch imports)


def seconds_per_op(batch, ops_per_batch):
    """Median over RUNS runs of the seconds per op; batch() queues ops_per_batch ops."""
    torch.cuda.synchronize()
    deadline = time.perf_counter() + WARMUP_S
    while time.perf_counter() < deadline:
        batch()
        torch.cuda.synchronize()
    per_op = []
    for _ in range(RUNS):
        ops = 0
        torch.cuda.synchronize()
        start = time.perf_counter()
        while True:
            batch()
            torch.cuda.synchronize()
            ops += ops_per_batch
            elapsed = time.perf_counter() - start
            if elapsed >= RUN_S:
                break
        per_op.append(elapsed / ops)
    return statistics.median(per_op)


def repeat(op, count):
    def batch():
        for _ in range(count):
            op()
    return batch


def uniform(seed, *shape, dtype=torch.float32):
    g = torch.Generator(device="cuda").manual_seed(seed)
    return torch.rand(*shape, generator=g, device="cuda", dtype=torch.float32).to(dtype)


def memory_bound(results):
    n = ADD_SUM_BYTES // 4
    a = torch.full((n,), 1.0, device="cuda")
    b = torch.full((n,), 2.0, device="cuda")
    adds = max(1, -(-BATCH_BYTES // (3 * ADD_SUM_BYTES)))
    sums = max(1, -(-BATCH_BYTES // ADD_SUM_BYTES))
    t = seconds_per_op(repeat(lambda: torch.add(a, b), adds), adds)
    add_gbps = 3 * ADD_SUM_BYTES / GB / t
    t = seconds_per_op(repeat(lambda: a.sum(), sums), sums)
    sum_gbps = ADD_SUM_BYTES / GB / t
    print(f"add 2 x {ADD_SUM_BYTES >> 20} MiB float32: {add_gbps:.0f} GB/s (3 x {ADD_SUM_BYTES >> 20} MiB moved); "
          f"sum {ADD_SUM_BYTES >> 20} MiB: {sum_gbps:.0f} GB/s", flush=True)
    results.append((f"add_{ADD_SUM_BYTES}", add_gbps, "GB/s"))
    results.append((f"sum_{ADD_SUM_BYTES}", sum_gbps, "GB/s"))


def softmax(results):
    x = uniform(1, SOFTMAX_N, SOFTMAX_N)
    ops = 10
    ms = seconds_per_op(repeat(lambda: torch.softmax(x, dim=-1), ops), ops) * 1e3
    print(f"softmax {SOFTMAX_N} x {SOFTMAX_N} float32, dim -1: {ms:.3f} ms "
          f"({2 * x.numel() * 4 / GB / (ms / 1e3):.0f} GB/s counting one read and one write)", flush=True)
    results.append((f"softmax_{SOFTMAX_N}", ms, "ms"))


def gemm(results):
    torch.backends.cuda.matmul.allow_tf32 = False
    ops = 4
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        a = uniform(1, GEMM_N, GEMM_N, dtype=dtype)
        b = uniform(2, GEMM_N, GEMM_N, dtype=dtype)
        t = seconds_per_op(repeat(lambda: torch.matmul(a, b), ops), ops)
        tflops = 2 * GEMM_N ** 3 / 1e12 / t
        print(f"matmul {GEMM_N}^3 {name}: {tflops:.1f} TFLOP/s "
              f"(matmul.allow_tf32 {torch.backends.cuda.matmul.allow_tf32})", flush=True)
        results.append((f"gemm_{name}_{GEMM_N}", tflops, "TFLOP/s"))
        del a, b


def conv(results):
    x = uniform(1, CONV_BATCH, CONV_CHANNELS, CONV_SIZE, CONV_SIZE)
    w = uniform(2, CONV_CHANNELS, CONV_CHANNELS, 3, 3)
    xg = x.clone().requires_grad_()
    wg = w.clone().requires_grad_()
    grad_out = uniform(3, CONV_BATCH, CONV_CHANNELS, CONV_SIZE, CONV_SIZE)
    ops = 10

    def forward():
        F.conv2d(x, w, None, 1, 1)

    def forward_backward():
        F.conv2d(xg, wg, None, 1, 1).backward(grad_out)
        xg.grad = None
        wg.grad = None

    default_tf32 = torch.backends.cudnn.allow_tf32
    try:
        # heuristics first (PyTorch's default, as Ember's), then benchmark mode, as ConvGpuBench's "algorithms"
        for benchmark, timed in ((False, ""), (True, "_timed")):
            torch.backends.cudnn.benchmark = benchmark
            for tf32, suffix in ((default_tf32, ""), (False, "_notf32")):
                torch.backends.cudnn.allow_tf32 = tf32
                with torch.no_grad():
                    fwd = seconds_per_op(repeat(forward, ops), ops) * 1e3
                fwdbwd = seconds_per_op(repeat(forward_backward, ops), ops) * 1e3
                print(f"conv2d [{CONV_BATCH},{CONV_CHANNELS},{CONV_SIZE},{CONV_SIZE}] 3x3 p1 float32, cudnn.allow_tf32 {tf32}, "
                      f"cudnn.benchmark {benchmark}: forward {fwd:.3f} ms, forward+backward {fwdbwd:.3f} ms", flush=True)
                results.append((f"conv_fwd_ms{suffix}{timed}", fwd, "ms"))
                results.append((f"conv_fwdbwd_ms{suffix}{timed}", fwdbwd, "ms"))
    finally:
        torch.backends.cudnn.allow_tf32 = default_tf32
        torch.backends.cudnn.benchmark = False


def tiny(results):
    a = torch.full((1,), 1.5, device="cuda")
    b = torch.full((1,), 2.5, device="cuda")

    def batch():
        for _ in range(TINY_OPS):
            c = a + b
            del c

    us = seconds_per_op(batch, TINY_OPS) * 1e6
    print(f"1-element float32 add, {TINY_OPS} queued per synchronize: {us:.2f} us/op", flush=True)
    results.append(("tiny_add_us", us, "us"))


def main():
    device = torch.device("cuda", 0)
    torch.cuda.set_device(device)
    props = torch.cuda.get_device_properties(device)
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}) "
          f"on {props.name}; defaults: matmul.allow_tf32 {torch.backends.cuda.matmul.allow_tf32}, "
          f"cudnn.allow_tf32 {torch.backends.cudnn.allow_tf32}", flush=True)
    results = []
    for measure in (memory_bound, softmax, gemm, conv, tiny):
        measure(results)
        torch.cuda.empty_cache()
    torch.cuda.synchronize(device)

    # The last paragraph: what ci/gpu-run reads.
    print()
    for name, value, unit in results:
        print(f"peer {name} {value:.4g} {unit}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

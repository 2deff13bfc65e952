#!/usr/bin/env python3
"""PyTorch on the same GPU, for the side-by-side numbers of Ember's GPU benchmarks.

Measures what these Ember benchmarks measure, the same way where Python allows:

  AllocatorBench.allocFree (backend=cuda)   alloc_free_<bytes>      torch.empty(n, device='cuda') then del
                                            raw_alloc_free_<bytes>  the caching allocator's raw_alloc/raw_delete
                                                                    (what torch.cuda.caching_allocator_alloc/_delete
                                                                    call: the allocator with less Python around it)
  CopyBandwidthGpuBench.hostToDevice        h2d_<pinned|pageable>_<bytes>
  CopyBandwidthGpuBench.deviceToHost        d2h_<pinned|pageable>_<bytes>
  CopyBandwidthGpuBench.deviceToDevice      d2d_<bytes>             read + written bytes, as Ember counts them

Allocator pairs: ns per pair, the best of RUNS runs of ITERS pairs each, after a warm-up
that fills the cache. Copies: one measurement queues copies of at least 64 MiB (1 GiB
device to device) back to back on the current stream and waits for it, as Ember's
benchmark does; GB/s (10^9 bytes/s) of the best of RUNS measurements.

Output: progress lines first, then, last and without blank lines between them, one line per
result in the format ci/gpu-run reads:

  peer <name> <value> <unit>

Exits 77 (skipped) with a message when torch is missing or sees no CUDA device.
"""

import gc
import sys
import time

import peer_common

ALLOC_SIZES = (4096, 4 * 1024 * 1024)
COPY_SIZES = (1024 * 1024, 256 * 1024 * 1024)
D2D_SIZE = 256 * 1024 * 1024
HOST_BATCH = 64 * 1024 * 1024
DEVICE_BATCH = 1024 * 1024 * 1024
ITERS = 20000
RUNS = 7
GB = 1e9
torch = peer_common.cuda_torch("allocator_peer")


def best_ns_per_pair(pair, iters=ITERS, runs=RUNS):
    """The best over runs of the mean time of one call of pair(), in ns."""
    for _ in range(1000):
        pair()
    best = float("inf")
    gc.disable()
    try:
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            for _ in range(iters):
                pair()
            best = min(best, (time.perf_counter_ns() - t0) / iters)
    finally:
        gc.enable()
    return best


def empty_del(nbytes, device):
    def pair():
        x = torch.empty(nbytes, dtype=torch.uint8, device=device)
        del x
    return pair


def raw_alloc_delete(nbytes, device, stream):
    """The caching allocator's own raw_alloc/raw_delete, as torch.cuda.caching_allocator_alloc
    and _delete call them, without the device guard those wrappers enter on every call."""
    raw_alloc = getattr(torch._C, "_cuda_cudaCachingAllocator_raw_alloc", None)
    raw_delete = getattr(torch._C, "_cuda_cudaCachingAllocator_raw_delete", None)
    if raw_alloc is None or raw_delete is None:
        def pair():
            p = torch.cuda.caching_allocator_alloc(nbytes, device, stream)
            torch.cuda.caching_allocator_delete(p)
        return pair
    handle = stream.cuda_stream

    def pair():
        raw_delete(raw_alloc(nbytes, handle))
    return pair


def best_gbps(copy_once, moved_bytes, count, stream, runs=RUNS):
    """Queues count copies, waits for the stream; GB/s of the fastest of runs such batches."""
    copy_once()
    stream.synchronize()
    best = 0.0
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        for _ in range(count):
            copy_once()
        stream.synchronize()
        seconds = (time.perf_counter_ns() - t0) / 1e9
        best = max(best, count * moved_bytes / GB / seconds)
    return best


def main():
    device = torch.device("cuda", 0)
    torch.cuda.set_device(device)
    props = torch.cuda.get_device_properties(device)
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {props.name}", flush=True)
    results = []

    # ------------------------------------------------------------ allocator
    stream = torch.cuda.current_stream(device)
    for nbytes in ALLOC_SIZES:
        ns = best_ns_per_pair(empty_del(nbytes, device))
        print(f"torch.empty({nbytes}, uint8) + del: {ns:.1f} ns/pair", flush=True)
        results.append((f"alloc_free_{nbytes}", ns, "ns"))
        ns = best_ns_per_pair(raw_alloc_delete(nbytes, 0, stream))
        print(f"caching allocator raw_alloc({nbytes}) + raw_delete: {ns:.1f} ns/pair", flush=True)
        results.append((f"raw_alloc_free_{nbytes}", ns, "ns"))

    # ------------------------------------------------------------ host <-> device
    copy_stream = torch.cuda.Stream(device)
    with torch.cuda.stream(copy_stream):
        for nbytes in COPY_SIZES:
            count = max(1, HOST_BATCH // nbytes)
            dev = torch.zeros(nbytes, dtype=torch.uint8, device=device)
            for kind in ("pinned", "pageable"):
                host = torch.empty(nbytes, dtype=torch.uint8, pin_memory=(kind == "pinned"))
                host.fill_(0x5A)  # touch every page
                if kind == "pinned" and not host.is_pinned():
                    raise RuntimeError("torch did not pin the host buffer")
                h2d = best_gbps(lambda: dev.copy_(host, non_blocking=True), nbytes, count, copy_stream)
                d2h = best_gbps(lambda: host.copy_(dev, non_blocking=True), nbytes, count, copy_stream)
                print(f"{kind:8s} {nbytes >> 20:4d} MiB: host->device {h2d:.2f} GB/s, "
                      f"device->host {d2h:.2f} GB/s", flush=True)
                results.append((f"h2d_{kind}_{nbytes}", h2d, "GB/s"))
                results.append((f"d2h_{kind}_{nbytes}", d2h, "GB/s"))
                del host
            del dev

        # ------------------------------------------------------------ device -> device
        src = torch.full((D2D_SIZE,), 0x5A, dtype=torch.uint8, device=device)
        dst = torch.empty(D2D_SIZE, dtype=torch.uint8, device=device)
        count = max(1, DEVICE_BATCH // D2D_SIZE)
        d2d = best_gbps(lambda: dst.copy_(src), 2 * D2D_SIZE, count, copy_stream)
        print(f"device->device {D2D_SIZE >> 20} MiB: {d2d:.1f} GB/s (read + write)", flush=True)
        results.append((f"d2d_{D2D_SIZE}", d2d, "GB/s"))
        del src, dst
    torch.cuda.synchronize(device)

    # The last paragraph: what ci/gpu-run reads.
    print()
    for name, value, unit in results:
        print(f"peer {name} {value:.3f} {unit}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

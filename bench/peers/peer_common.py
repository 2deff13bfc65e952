"""What every GPU peer script does first: find torch and a CUDA device, or exit 77 (skipped) saying why.

A peer prints its results last, one per line, as "peer NAME VALUE UNIT" (see ci/gpu-run).
"""
import sys

SKIP = 77


def skip(peer, reason):
    print(f"{peer}: skipped: {reason}", flush=True)
    sys.exit(SKIP)


def cuda_torch(peer):
    """torch, when it imports and sees a CUDA device; otherwise the peer is skipped."""
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install failing inside torch's own imports
        skip(peer, f"torch is not importable ({type(e).__name__}: {e})")
    if not torch.cuda.is_available():
        skip(peer, f"torch {torch.__version__} sees no CUDA device (built for CUDA {torch.version.cuda}); "
             "the peers need a GPU")
    return torch

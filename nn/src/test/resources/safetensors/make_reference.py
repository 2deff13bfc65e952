"""Writes the reference files that SafetensorsInteropTest compares Ember's reader and writer against.

Run from this folder with the reference implementation on the path (it is not a dependency of the
build; the files it wrote are committed):

    python3 -m pip install --target /tmp/st safetensors==0.8.0
    PYTHONPATH=/tmp/st python3 make_reference.py

For each file it also writes NAME-values.txt, one tensor per line, tab-separated:
    name, torch dtype, shape (comma-separated), raw little-endian bytes (hex), values (space-separated)
so the Java tests know the expected contents without parsing safetensors themselves.
"""
import math

import safetensors
import torch
from safetensors.torch import save_file

torch.manual_seed(0)


def describe(name, t):
    shape = ",".join(str(s) for s in t.shape)
    raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex() if t.numel() else ""
    if t.dtype.is_floating_point:
        values = [repr(float(v)) for v in t.flatten().tolist()]
    else:
        values = [str(int(v)) for v in t.flatten().tolist()]
    dtype = str(t.dtype).removeprefix("torch.")
    return "\t".join([name, dtype, shape, raw, " ".join(values)])


def write(stem, tensors, metadata=None):
    save_file(tensors, stem + ".safetensors", metadata=metadata)
    with open(stem + "-values.txt", "w", encoding="utf-8") as f:
        for name, t in tensors.items():
            f.write(describe(name, t) + "\n")


reference = {
    # a small conv net's state_dict: several float32 tensors ordered by name within their dtype
    "conv1.weight": torch.randn(4, 1, 3, 3),
    "conv1.bias": torch.randn(4),
    "fc.weight": torch.randn(3, 5),  # the Java side saves it from a transposed (non-contiguous) view
    "fc.bias": torch.randn(3),
    "special": torch.tensor([math.nan, math.inf, -math.inf, -0.0, 1e-45, 3.4028234663852886e38, 1.0]),
    "f64": torch.randn(2, 3, dtype=torch.float64),
    "half": torch.cat([torch.randn(5), torch.tensor([math.inf, -0.0, 6e-8])]).half(),
    "brain": torch.randn(2, 2).bfloat16(),
    "i32": torch.tensor([-(2**31), 2**31 - 1, 0, -7, 123456], dtype=torch.int32),
    "i64": torch.tensor([[-(2**63), 2**63 - 1], [0, -1]], dtype=torch.int64),
    "u8": torch.tensor([[0, 1, 127, 128], [200, 254, 255, 37]], dtype=torch.uint8),
    "flags": torch.tensor([[True, False, True], [False, False, True]]),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
    "empty.bool": torch.zeros(0, dtype=torch.bool),
    # names that need JSON escapes, and names whose UTF-16 and UTF-8 (code point) orders differ
    'quote"back\\slash\u0001\u001f': torch.tensor([1.5], dtype=torch.float16),
    "\uff01fullwidth": torch.tensor([2.0], dtype=torch.float16),
    "\U0001f600emoji": torch.tensor([3.0], dtype=torch.float16),
    "caf\u00e9/\u540d\u524d": torch.tensor([4.0], dtype=torch.float16),
}
# one metadata key only: the reference implementation keeps metadata in a hash map, so the order
# of several keys in its header changes from run to run
write("reference", reference, metadata={"note": 'say "hi" \\ \n\t caf\u00e9 \u2603 \U0001f600 \u0001\u007f /'})
write("nometa", {"b": torch.ones(2, 2, dtype=torch.float64), "a": torch.arange(3, dtype=torch.int32)})
write("empty", {})
print("wrote with safetensors", safetensors.__version__)

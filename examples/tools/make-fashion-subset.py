#!/usr/bin/env python3
"""Makes the Fashion-MNIST subsets that ship with Ember, reproducibly.

  examples/src/main/resources/fashion-mnist-subset/  10,000 train + 2,000 test images:
      the main job trains on these when the full set is not installed.
  nn/src/test/resources/fashion-mnist-tiny/            256 train + 64 test images: unit tests.

Each subset is balanced over the ten classes (counts differ by at most one when the size is not
a multiple of ten), drawn with a fixed seed from the full set, kept in the full set's original
order, and written in the same gzip'd IDX format with a fixed gzip header (no name, mtime 0), so
running this script again gives byte-identical files.

The random draw uses its own SplitMix64 generator rather than Python's `random`, so the choice
does not depend on the Python version.

Usage: python3 examples/tools/make-fashion-subset.py [--source DIR] [--root REPO_ROOT]
Source defaults to /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist).
Only the standard library (gzip, struct) is used.
"""

import argparse
import gzip
import io
import os
import struct
import sys

CLASSES = 10
MASK64 = (1 << 64) - 1

# (directory relative to the repository root, seed, train count, test count)
SUBSETS = [
    ("examples/src/main/resources/fashion-mnist-subset", 0, 10_000, 2_000),
    ("nn/src/test/resources/fashion-mnist-tiny", 1, 256, 64),
]

SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

README = """\
# {title}

{train} training and {test} test images of Fashion-MNIST, balanced over the ten classes,
drawn with seed {seed} from the full set and kept in its original order, in the full set's
gzip'd IDX format. Made by `examples/tools/make-fashion-subset.py`; run it again to
reproduce these files byte for byte. The full set: `apt-get install dataset-fashion-mnist`
(installs to /usr/share/datasets/fashion-mnist).

Fashion-MNIST: Copyright 2017 Zalando SE, https://tech.zalando.com, released under the
MIT (Expat) license:

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


class SplitMix64:
    """A tiny, fully specified 64-bit generator (Steele, Lea and Flood's SplitMix64)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform in [0, n), by rejection so there is no modulo bias."""
        limit = MASK64 - (MASK64 + 1) % n
        while True:
            r = self.next()
            if r <= limit:
                return r % n


def read_idx(path):
    """Returns (dims, data bytes) of a gzip'd IDX file of unsigned bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        sys.exit(f"{path}: too short to be an IDX file")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = raw[4 + 4 * ndim:]
    count = 1
    for d in dims:
        count *= d
    if len(data) != count:
        sys.exit(f"{path}: expected {count} data bytes for dims {dims}, found {len(data)}")
    return dims, data


def write_idx(path, dims, data):
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    buf = io.BytesIO()
    # filename '' and mtime 0 keep the gzip header free of anything that changes between runs
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(header)
        g.write(data)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def choose(labels, count, rng):
    """Indices of a class-balanced sample of `count` labels, in ascending order."""
    by_class = [[] for _ in range(CLASSES)]
    for i, label in enumerate(labels):
        by_class[label].append(i)
    chosen = []
    for c in range(CLASSES):
        want = count // CLASSES + (1 if c < count % CLASSES else 0)
        pool = by_class[c]
        if want > len(pool):
            sys.exit(f"class {c} has only {len(pool)} images, {want} wanted")
        # partial Fisher-Yates: the first `want` slots end up a uniform sample without replacement
        for i in range(want):
            j = i + rng.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        chosen.extend(pool[:want])
    return sorted(chosen)


def make_subset(source, out_dir, seed, counts):
    os.makedirs(out_dir, exist_ok=True)
    rng = SplitMix64(seed)
    for split, count in zip(("train", "t10k"), counts):
        images_name, labels_name = SPLITS[split]
        image_dims, images = read_idx(os.path.join(source, images_name))
        label_dims, labels = read_idx(os.path.join(source, labels_name))
        if image_dims[0] != label_dims[0]:
            sys.exit(f"{split}: {image_dims[0]} images but {label_dims[0]} labels")
        row = image_dims[1] * image_dims[2]
        picked = choose(labels, count, rng)
        write_idx(os.path.join(out_dir, images_name), (count,) + tuple(image_dims[1:]),
                  b"".join(images[i * row:(i + 1) * row] for i in picked))
        write_idx(os.path.join(out_dir, labels_name), (count,), bytes(labels[i] for i in picked))
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        title = "Fashion-MNIST subset" if counts[0] >= 1000 else "Fashion-MNIST tiny subset (tests)"
        f.write(README.format(title=title, train=f"{counts[0]:,}", test=f"{counts[1]:,}", seed=seed))
    for name in sorted(os.listdir(out_dir)):
        print(f"{os.path.join(out_dir, name)}: {os.path.getsize(os.path.join(out_dir, name)):,} bytes")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="directory with the full set's four .gz files")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(here)),
                        help="repository root (default: two levels above this script)")
    args = parser.parse_args()
    for name in [n for pair in SPLITS.values() for n in pair]:
        if not os.path.isfile(os.path.join(args.source, name)):
            sys.exit(f"{os.path.join(args.source, name)} is missing: "
                     "apt-get install dataset-fashion-mnist, or pass --source DIR")
    for rel, seed, train, test in SUBSETS:
        make_subset(args.source, os.path.join(args.root, rel), seed, (train, test))


if __name__ == "__main__":
    main()

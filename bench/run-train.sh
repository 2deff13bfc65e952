#!/usr/bin/env bash
# Two epochs of the Fashion-MNIST CNN in Ember and in PyTorch side by side on this machine (each
# epoch timed: the first is cold, JIT warm-up included; the second is what later epochs cost),
# their peak resident memory, and the tiny autograd graph (y = (x*w + b).sum() on 4 elements),
# with a table last. Needs the full data set (apt-get install dataset-fashion-mnist) and, for the peer,
# Debian's python3-torch at /usr/bin/python3.
#
#   bench/run-train.sh [DATA_DIR]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
data=${1:-/usr/share/datasets/fashion-mnist}
suffix=${EMBER_BUILD_SUFFIX:-}
target=bench/target$suffix
out=$target/train-bench
mkdir -p "$out"

java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1; }
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ] || [ "$(java_major "$JAVA_HOME")" -lt 25 ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [ -f "$data/$f" ] || { echo "missing $data/$f: apt-get install dataset-fashion-mnist" >&2; exit 1; }
done

echo "== building"
./mvnw -q -B ${MVN_ARGS:-} -pl bench -am package -DskipTests -Dember.build.suffix="$suffix" 2>&1 | grep -v '^WARNING' || true
[ -f "$target/benchmarks.jar" ] || { echo "build failed: no $target/benchmarks.jar" >&2; exit 1; }
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

echo "== Ember: two epochs"
# With the main job's JVM options (examples/pom.xml, ember.run.jvm: a small heap, as tensors live
# off-heap, and the JIT setting for the CPU kernels). `read -a` splits them without globbing the `*`s.
read -r -a run_jvm <<< "$(sed -n 's:.*<ember.run.jvm>\(.*\)</ember.run.jvm>.*:\1:p' examples/pom.xml)"
[ "${#run_jvm[@]}" -gt 0 ] || { echo "no ember.run.jvm in examples/pom.xml" >&2; exit 1; }
echo "JVM options: ${run_jvm[*]}"
"$JAVA_HOME/bin/java" "${run_jvm[@]}" "${flags[@]}" -cp "$target/benchmarks.jar" \
  dev.ember.bench.train.TrainEpochBench "$data" 2>&1 | grep -v '^WARNING' | tee "$out/ember.log"

echo "== Ember: tiny autograd graph (JMH)"
"$JAVA_HOME/bin/java" "${flags[@]}" -jar "$target/benchmarks.jar" TinyAutogradBench -rf json -rff "$out/tiny.json" \
  2>&1 | grep -v '^WARNING' | tail -n 4
tiny=$(sed -n 's/.*"score" *: *\([0-9.eE+-]*\).*/\1/p' "$out/tiny.json" | head -n 1)
echo "ember ember_tiny_graph $tiny us" | tee -a "$out/ember.log"

echo "== PyTorch: two epochs (OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1)"
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/fashion_mnist_torch.py "$data" 2>&1 | tee "$out/torch.log"

value() { sed -n "s/^[a-z]* $1 \([0-9.]*\) .*/\1/p" "$2" | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
es=$(value ember_epoch1_seconds "$out/ember.log"); ts=$(value torch_epoch1_seconds "$out/torch.log")
es2=$(value ember_epoch2_seconds "$out/ember.log"); ts2=$(value torch_epoch2_seconds "$out/torch.log")
ei=$(value ember_images_per_second "$out/ember.log"); ti=$(value torch_images_per_second "$out/torch.log")
ea=$(value ember_test_accuracy "$out/ember.log"); ta=$(value torch_test_accuracy "$out/torch.log")
er=$(value ember_peak_rss "$out/ember.log"); tr=$(value torch_peak_rss "$out/torch.log")
et=$(value ember_tiny_graph "$out/ember.log"); tt=$(value torch_tiny_graph "$out/torch.log")

echo
echo "Fashion-MNIST CNN, batch 64, two epochs on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
printf '%-26s %12s %12s %8s   %s\n' "measure" "Ember" "PyTorch" "ratio" "target"
printf '%-26s %12s %12s %8s   %s\n' "epoch 1 time, cold (s)" "$es" "$ts" "$(ratio "$es" "$ts")" "<= 1.0x PyTorch"
printf '%-26s %12s %12s %8s   %s\n' "epoch 2 time, warm (s)" "$es2" "$ts2" "$(ratio "$es2" "$ts2")" "<= 1.0x PyTorch"
printf '%-26s %12s %12s %8s\n' "images/s, epoch 1" "$ei" "$ti" "$(ratio "$ei" "$ti")"
printf '%-26s %12s %12s %8s   %s\n' "test acc. after 2 ep. (%)" "$ea" "$ta" "" "within 1 point"
printf '%-26s %12s %12s %8s   %s\n' "peak resident (MiB)" "$er" "$tr" "$(ratio "$er" "$tr")" "<= 1.0x PyTorch"
printf '%-26s %12.2f %12s %8s   %s\n' "tiny autograd graph (us)" "$et" "$tt" "$(ratio "$et" "$tt")" "<= 5 us"

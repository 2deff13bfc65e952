#!/usr/bin/env bash
# Ember's CPU benchmarks (JMH, dev.ember.bench.cpu): sgemm beside OpenBLAS, add and sum beside
# the memory-copy roof, softmax, and the host overhead of a tiny op. Prints a summary table last.
#
#   bench/run-cpu.sh            the measured run: under 5 minutes on 2 cores
#   bench/run-cpu.sh --smoke    each benchmark once for ~100 ms at its smallest size (CI): proves
#                               none throws; its numbers mean nothing
#   bench/run-cpu.sh [--smoke] REGEX    only the benchmarks whose name matches REGEX
#
# Builds bench/target$EMBER_BUILD_SUFFIX/benchmarks.jar first when it is missing or older than
# a source file or pom. Exits non-zero when the build fails or a benchmark fails (throws, or
# ends without a result); the table then shows "-" for it.
#
# Environment:
#   JAVA_HOME           a JDK 25 (default: /usr/lib/jvm/temurin-25-jdk-amd64 when the current
#                       one is not 25 or later)
#   EMBER_BUILD_SUFFIX  build and run from target$EMBER_BUILD_SUFFIX (as -Dember.build.suffix)
#   MVN_ARGS            extra Maven arguments, e.g. "-o" on a machine with a warm ~/.m2
#   JMH_ARGS            extra JMH options, after the script's own (e.g. "-p n=1024")
#   EMBER_OPENBLAS      the OpenBLAS library to load (default libopenblas.so.0, from Debian's
#                       libopenblas0)
#
# Leaves the JMH log and JSON results in bench/target$EMBER_BUILD_SUFFIX/cpu-bench/.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

smoke=false
pattern='dev\.ember\.bench\.cpu\.'
for arg in "$@"; do
    case $arg in
        --smoke) smoke=true ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run-cpu.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
        *) pattern=$arg ;;
    esac
done

say() { echo "[run-cpu] $*"; }
die() { echo "[run-cpu] ERROR: $*" >&2; exit 1; }

java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1; }
if [[ -z ${JAVA_HOME:-} || ! -x $JAVA_HOME/bin/java || $(java_major "$JAVA_HOME") -lt 25 ]]; then
    JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
[[ -x $JAVA_HOME/bin/java && $(java_major "$JAVA_HOME") -ge 25 ]] || die "no JDK 25 at $JAVA_HOME (set JAVA_HOME)"
export JAVA_HOME
java=$JAVA_HOME/bin/java

suffix=${EMBER_BUILD_SUFFIX:-}
target=bench/target$suffix
jar=$target/benchmarks.jar
read -r -a mvn_args <<< "${MVN_ARGS:-}"
read -r -a extra_jmh <<< "${JMH_ARGS:-}"

start=$SECONDS

# ---------------------------------------------------------------- build, when needed
newer=""
if [[ -f $jar ]]; then
    newer=$(find pom.xml ./*/pom.xml ./*/src/main -type f -newer "$jar" -print -quit 2>/dev/null || true)
fi
if [[ ! -f $jar || -n $newer ]]; then
    say "building $jar${newer:+ ($newer changed)}"
    rc=0
    # Maven's own dependencies print JDK-deprecation warnings on JDK 25: noise here.
    ./mvnw -B -q "${mvn_args[@]}" -pl bench -am package -DskipTests -Dember.build.suffix="$suffix" 2>&1 \
        | grep -v '^WARNING: ' || rc=${PIPESTATUS[0]}
    [[ $rc -eq 0 && -f $jar ]] || die "the build failed"
fi

# ---------------------------------------------------------------- run
if $smoke; then
    mode="smoke"
    # One 100 ms iteration of each, no warmup, the smallest sizes; both thread counts stay,
    # so the parallel paths run too (65536 floats are two of Ember's parallel grains).
    jmh_opts=(-f 1 -wi 0 -i 1 -r 100ms -p n=256 -p floats=65536)
else
    mode="full"
    # Iterations, times and forks come from each class's annotations: 1 fork, 2 warmup and
    # 3 measured iterations of 1 s.
    jmh_opts=()
fi
out=$target/cpu-bench
mkdir -p "$out"
json=$out/$mode.json
log=$out/$mode.log
rm -f "$json"

say "JDK $(java_major "$JAVA_HOME") at $JAVA_HOME; $mode run of /$pattern/; log: $log"
# --sun-misc-unsafe-memory-access=allow silences JDK 25's warning about JMH's own use of Unsafe;
# JMH passes the host JVM's flags on to every fork (before each class's jvmArgsAppend).
rc=0
"$java" --sun-misc-unsafe-memory-access=allow -jar "$jar" "$pattern" "${jmh_opts[@]}" "${extra_jmh[@]}" \
    -rf json -rff "$json" 2>&1 | tee "$log" | grep -v '^WARNING: Using incubator modules' || rc=${PIPESTATUS[0]}

# JMH reports a benchmark that throws and goes on with the next, exiting 0. So compare the
# benchmark+parameter combinations it started (from the log) with the results it wrote.
# A failure line is followed by the exception (after a blank line); show its first line.
failed=$(awk '/^# Benchmark: /  { b = $3; p = "" }
              /^# Parameters: / { p = " " substr($0, 15) }
              why && NF         { print "  " b p ": " $0; why = 0; next }
              /<failure>/       { why = 1 }
              /<forked VM failed|<binary link had failed/ { print "  " b p ": " $0 }' "$log" | sort -u)
started=$(awk '/^# Benchmark: / { b = $3; p = "" } /^# Parameters: / { p = $0 } /^# Fork: / { print b p }' "$log" \
    | sort -u | wc -l)
finished=0
if [[ -f $json ]]; then finished=$(grep -c '"benchmark" :' "$json" || true); fi

status=0
echo
if [[ $rc -ne 0 ]]; then
    say "JMH exited with status $rc"
    status=1
fi
if [[ -n $failed ]]; then
    say "these benchmarks FAILED (their stack traces are in $log):"
    echo "$failed"
    status=1
fi
if [[ $finished -lt $started ]]; then
    say "$((started - finished)) of $started benchmark runs ended without a result"
    status=1
fi
if [[ $started -eq 0 ]]; then
    say "no benchmark ran"
    status=1
fi
where=""
if [[ $finished -gt 0 ]]; then where="; results: $json"; fi
say "$finished of $started benchmark runs finished in $((SECONDS - start)) s$where"

if [[ -f $json ]]; then
    report_args=("$json")
    $smoke && report_args+=(--smoke)
    "$java" -cp "$jar" dev.ember.bench.cpu.Report "${report_args[@]}" || status=1
fi
exit $status

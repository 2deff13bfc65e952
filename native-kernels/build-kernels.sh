#!/usr/bin/env bash
# Compiles every native-kernels/src/main/cuda/*.cu into its own fatbin and writes an
# index of the images and the kernels each one holds. Maven runs this in the
# generate-resources phase (see pom.xml); it can also be run by hand:
#
#   native-kernels/build-kernels.sh SRC_DIR OUT_DIR WORK_DIR [NVCC]
#
#   SRC_DIR   folder with the *.cu sources (and the *.cuh headers they include)
#   OUT_DIR   resource root; files go to OUT_DIR/dev/ember/kernels/
#   WORK_DIR  scratch folder kept between builds (intermediate PTX, up-to-date stamps)
#   NVCC      nvcc to use; empty means: $CUDA_HOME/bin/nvcc, then nvcc on PATH, then
#             /usr/local/cuda/bin/nvcc
#
# Each fatbin carries SASS for sm_80 (A100) and sm_90a (H100/H200) and PTX for
# compute_80, which the driver JIT-compiles on any newer GPU. Without nvcc the script
# says so, records the reason in the index (KernelImages reports it at run time) and
# succeeds, so a machine without CUDA still builds Ember. A kernel that does not
# compile fails the build.
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: $0 SRC_DIR OUT_DIR WORK_DIR [NVCC]" >&2
    exit 2
fi
nvcc_arg=${4:-}
mkdir -p "$2/dev/ember/kernels" "$3"
# Absolute paths: nvcc runs from inside the source folder (see below).
src_dir=$(cd "$1" && pwd)
res_dir=$(cd "$2/dev/ember/kernels" && pwd)
work_dir=$(cd "$3" && pwd)
index=$res_dir/kernels.properties

gencode=(
    -gencode arch=compute_80,code=sm_80
    -gencode arch=compute_90a,code=sm_90a
    -gencode arch=compute_80,code=compute_80
)
targets="sm_80 sm_90a compute_80"
# -lineinfo costs nothing at run time and lets profilers and compute-sanitizer map
# SASS back to source lines. No --use_fast_math: fill and copy move bits, and later
# kernels must match PyTorch's (non-fast-math) results.
flags=(-O3 -std=c++17 -lineinfo --threads 0)

log() { echo "[ember-native-kernels] $*"; }

write_not_built() {
    local reason=$1
    rm -f "$res_dir"/*.fatbin
    {
        echo "# Written by native-kernels/build-kernels.sh"
        echo "built=false"
        echo "reason=$reason"
    } > "$index"
}

nvcc=""
searched=""
if [[ -n $nvcc_arg ]]; then
    # Asked for by name: a wrong path is a mistake to report, not a reason to skip.
    if [[ ! -x $nvcc_arg ]]; then
        echo "[ember-native-kernels] ERROR: nvcc '$nvcc_arg' (from -Dnvcc) is not an executable file" >&2
        exit 1
    fi
    nvcc=$nvcc_arg
else
    if [[ -n ${CUDA_HOME:-} ]]; then
        searched="\$CUDA_HOME/bin ($CUDA_HOME/bin), "
        [[ -x $CUDA_HOME/bin/nvcc ]] && nvcc=$CUDA_HOME/bin/nvcc
    fi
    if [[ -z $nvcc ]] && command -v nvcc > /dev/null 2>&1; then
        nvcc=$(command -v nvcc)
    fi
    if [[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]]; then
        nvcc=/usr/local/cuda/bin/nvcc
    fi
    searched="${searched}PATH, /usr/local/cuda/bin"
fi

if [[ -z $nvcc ]]; then
    log "nvcc not found: CUDA kernels not built; the CUDA backend will report 'kernels not built'"
    log "(searched ${searched}; pass -Dnvcc=/path/to/nvcc or set CUDA_HOME to build them)"
    write_not_built "nvcc was not found when ember-native-kernels was built (searched ${searched})"
    exit 0
fi

nvcc_version=$("$nvcc" --version | sed -n 's/.*release [0-9.]*, V\([0-9.]*\).*/\1/p')
log "nvcc: $nvcc (CUDA ${nvcc_version:-unknown}); targets: $targets; rebuilding what changed"

shopt -s nullglob
sources=("$src_dir"/*.cu)
headers=("$src_dir"/*.cuh)
if [[ ${#sources[@]} -eq 0 ]]; then
    log "no .cu files in $src_dir"
    write_not_built "the build found no .cu files in native-kernels/src/main/cuda"
    exit 0
fi

# Everything besides a .cu file that changes its fatbin: the compiler, the flags, the
# shared headers and this script. When this stamp changes, every kernel is rebuilt.
stamp_now="$nvcc $nvcc_version ${flags[*]} ${gencode[*]}"
stamp_file=$work_dir/build.stamp
newest_dep=$0
for h in "${headers[@]}"; do
    [[ $h -nt $newest_dep ]] && newest_dep=$h
done
rebuild_all=false
if [[ ! -f $stamp_file || $(cat "$stamp_file") != "$stamp_now" ]]; then
    rebuild_all=true
fi

# Sorted, so the index and the build log do not depend on the file system's order.
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | LC_ALL=C sort)

declare -A owner=()
images=()
index_lines=()
for src in "${sources[@]}"; do
    name=$(basename "$src" .cu)
    if [[ ! $name =~ ^[A-Za-z0-9_]+$ ]]; then
        echo "[ember-native-kernels] ERROR: $src: kernel file names may use only letters, digits and '_'" >&2
        exit 1
    fi
    fatbin=$res_dir/$name.fatbin
    keep=$work_dir/$name
    entries_file=$work_dir/$name.entries

    if $rebuild_all || [[ ! -f $fatbin || ! -f $entries_file || $src -nt $fatbin || $newest_dep -nt $fatbin ]]; then
        log "nvcc $name.cu"
        rm -rf "$keep"
        mkdir -p "$keep"
        # Compiled from inside the source folder so the paths nvcc records in the
        # fatbin and its line table are the bare file names, not this machine's.
        if ! (cd "$src_dir" && "$nvcc" -fatbin "${flags[@]}" "${gencode[@]}" \
                -keep -keep-dir "$keep" -o "$fatbin" "$name.cu"); then
            rm -f "$fatbin"
            echo "[ember-native-kernels] ERROR: $name.cu does not compile (see nvcc's messages above)" >&2
            exit 1
        fi
        # The kernels' names, as cuModuleGetFunction wants them, from the kept PTX.
        sed -n 's/^.*\.entry[[:space:]]\{1,\}\([A-Za-z_$][A-Za-z0-9_$]*\).*$/\1/p' \
            "$keep/$name.compute_80.ptx" | LC_ALL=C sort > "$entries_file"
    fi

    mapfile -t entries < "$entries_file"
    for e in "${entries[@]}"; do
        # One name, one kernel: the backend looks kernels up by name across all images.
        if [[ -n ${owner[$e]:-} ]]; then
            echo "[ember-native-kernels] ERROR: kernel $e is defined in both ${owner[$e]}.cu and $name.cu" >&2
            exit 1
        fi
        owner[$e]=$name
    done
    images+=("$name")
    index_lines+=("image.$name=$(IFS=,; echo "${entries[*]}")")
done
echo "$stamp_now" > "$stamp_file"

# A fatbin whose .cu file was deleted must not linger in the jar.
for f in "$res_dir"/*.fatbin; do
    base=$(basename "$f" .fatbin)
    keep_it=false
    for i in "${images[@]}"; do [[ $i == "$base" ]] && keep_it=true; done
    $keep_it || rm -f "$f"
done

{
    echo "# Written by native-kernels/build-kernels.sh"
    echo "built=true"
    echo "nvcc=${nvcc_version:-unknown}"
    echo "targets=$targets"
    echo "images=$(IFS=,; echo "${images[*]}")"
    printf '%s\n' "${index_lines[@]}"
} > "$index"

total=0
for i in "${images[@]}"; do
    size=$(stat -c %s "$res_dir/$i.fatbin")
    total=$((total + size))
    log "$i.fatbin: $size bytes, kernels: $(tr '\n' ' ' < "$work_dir/$i.entries")"
done
log "${#images[@]} fatbin(s), $total bytes in all"

// Reductions along one axis, and cumsum/cumprod, for every dtype the CPU supports.
//
// Layout (the host's job): the input is contiguous and viewed as [outer, r, inner]; the
// middle axis (r elements) is reduced or scanned. A full reduction is outer = inner = 1;
// several reduced dims are first permuted together by the host. Element (o, k, i) is at
// in[(o * r + k) * inner + i]; a reduction writes output (o, i) at out[o * inner + i]
// ([outer, inner] contiguous); a scan writes [outer, r, inner] contiguous. Pointers are
// element 0 of each buffer and aligned to the element size; alignment to 16 bytes makes
// long rows use vector loads but is not required (results are the same either way).
// Outputs must not overlap the input or the workspace.
//
// Results never change from run to run, whatever the grid: each output's elements are
// combined in an order fixed by (outer, r, inner, splits) alone (no atomics anywhere).
//
// ================================================================ reductions
//
// Every reduction entry point takes one struct by value:
//
//   struct EmberReduceArgs {          72 bytes, 8-byte aligned
//     offset  0  void*   out        the result, [outer, inner]; argmax/argmin: the int64 indices
//     offset  8  void*   out2       argmax/argmin: the values ([outer, inner], input dtype) or NULL
//                                   for indices only; every other op ignores it (pass NULL)
//     offset 16  const void* in     the input, [outer, r, inner]
//     offset 24  void*   workspace  partials when splits > 1 (see below); else ignored (NULL)
//     offset 32  int64   outer
//     offset 40  int64   r          may be 0 (every output gets the op's value over no elements)
//     offset 48  int64   inner
//     offset 56  double  param      var/std: the correction (1 = Bessel); normp: p; else ignored
//     offset 64  int32   splits     how many blocks share each output along r (>= 1; see below)
//     offset 68  int32   reserved   must be 0
//   };
//
// Entry points, dtype suffix <dt> as ember_dtypes.cuh; A = the accumulate type (float for
// f32/f16/bf16, double for f64, int64 for i32/i64/u8/b8, as PyTorch's CUDA reductions):
//
//   name                          dtypes       out dtype            partial (S bytes)
//   ember_reduce_sum_<dt>         all 8        floating: <dt>;      A (4 or 8)
//                                              else int64 (wraps)
//   ember_reduce_prod_<dt>        all 8        as sum               A (4 or 8)
//   ember_reduce_mean_<dt>        floating     <dt>; r = 0 gives NaN A (4 or 8)
//   ember_reduce_max_<dt>         all 8        <dt>                 A (4 or 8)
//   ember_reduce_min_<dt>         all 8        <dt>                 A (4 or 8)
//   ember_reduce_argmax_<dt>      all 8        int64 (+ <dt> values) 16
//   ember_reduce_argmin_<dt>      all 8        int64 (+ <dt> values) 16
//   ember_reduce_var_<dt>         floating     <dt>                 16 (f64: 24)
//   ember_reduce_std_<dt>         floating     <dt>                 16 (f64: 24)
//   ember_reduce_logsumexp_<dt>   floating     <dt>                 8 (f64: 16)
//   ember_reduce_norm2_<dt>       floating     <dt>   p = 2         A (4 or 8)
//   ember_reduce_norm1_<dt>       floating     <dt>   p = 1         A
//   ember_reduce_norminf_<dt>     floating     <dt>   p = +inf      A
//   ember_reduce_normneginf_<dt>  floating     <dt>   p = -inf      A
//   ember_reduce_norm0_<dt>       floating     <dt>   p = 0         A
//   ember_reduce_normp_<dt>       floating     <dt>   any other p,  A
//                                                     given in param
//   ember_reduce_any_<dt>         all 8        one byte, 0 or 1     4
//   ember_reduce_all_<dt>         all 8        one byte, 0 or 1     4
//
// and for each of them a second pass, ember_reduce_<op>_finish_<dt>, with the same
// signature (e.g. ember_reduce_sum_finish_f32, ember_reduce_norm2_finish_bf16). any/all:
// the result dtype is bool, or uint8 for uint8 inputs; the bytes are the same.
//
// Semantics are the CPU's (Reductions.java, CpuReduceOps.java), i.e. PyTorch's:
//   - sum/prod of integers and bool accumulate in int64 and wrap; floating ones in A.
//   - max/min: a NaN wins (NaN propagates); otherwise the largest/smallest, +0.0 above -0.0
//     as Java's Math.max. The host refuses max()/min() of no elements.
//   - argmax/argmin: index along r (int64) of the first largest/smallest element; a NaN beats
//     every number and the first NaN wins. With r = 0 the index is -1 (the host refuses).
//     For the index into a flattened tensor, view it as [1, numel, 1].
//   - var/std: Welford per thread, merged with Chan's formula (stable in one pass);
//     result sum((x - mean)^2) / max(0, r - correction), so too few elements give inf/NaN.
//   - logsumexp: log(sum exp(x - m)) + m with m the running maximum; a NaN gives NaN, an
//     element +inf gives +inf, all -inf (or r = 0) gives -inf. Integers: convert to float32.
//   - norm: 2: sqrt(sum x^2); 1: sum |x|; inf: max |x|; -inf: min |x|; 0: count of x != 0
//     (NaN counts); other p: (sum |x|^p)^(1/p). NaN propagates. Every norm over r = 0 is 0.
//   - any/all: "not zero" (NaN is true). r = 0: any = 0, all = 1.
//   - mean, var, std, logsumexp and the norms take floating inputs only (the host converts).
//
// Launch (block = 256 threads, no dynamic shared memory; nothing to launch when
// outer * inner == 0). The host computes, from the sizes alone:
//
//   outputs = outer * inner
//   if inner == 1 and r > 2048:                     # long rows: a block per (row, split)
//       blocks = outer;  cols = 1
//   else:                                            # a tile of outputs per block
//       by   = inner == 1 ? min(32, next_pow2(ceil(r / 8)))
//                         : min(256 / min(256, next_pow2(inner)), next_pow2(r))
//       blocks = ceil(outputs / (256 / by))
//       cols = inner == 1 ? 0 : 256 / by            # 0: never split
//   splits = 1
//   if cols > 0 and blocks < 2048:
//       splits = max(1, min(ceil(2048 / blocks), ceil(r * cols / 16384)))
//
// (next_pow2(v) is the smallest power of two >= v, and 1 for v <= 1.) Then:
//
//   splits == 1:  launch ember_reduce_<op>_<dt> with grid (blocks, 1, 1); workspace unused.
//   splits  > 1:  allocate a workspace of outputs * splits * S bytes (S from the table; 24
//                 is enough for every op; no zeroing needed, 8-byte aligned), launch
//                 ember_reduce_<op>_<dt> with grid (blocks, splits, 1), then on the same
//                 stream ember_reduce_<op>_finish_<dt> with the same args and grid
//                 (min(outputs, 65535), 1, 1).
//
// The kernels loop over outputs (grid x) and splits (grid y), so any grid >= 1 in x and y
// is correct and gives the same bits; grid y must not exceed 65535 (splits <= 2048 by the
// formula). Any splits >= 1 is also correct: the split count decides the rounding, the grid
// does not. Splits let a few large outputs use the whole GPU: the sum of one 256 MiB float32
// tensor is 2048 blocks of 128 KiB each, read with 16-byte loads, then one finish block.
//
// ================================================================ cumsum / cumprod
//
//   struct EmberScanArgs {            56 bytes, 8-byte aligned
//     offset  0  void*   out        [outer, r, inner]: floating inputs give their own dtype,
//                                   integers and bool give int64
//     offset  8  const void* in     [outer, r, inner]
//     offset 16  void*   workspace  splits > 1: lines * splits * 8 bytes (lines = outer * inner);
//                                   no zeroing needed; else ignored (NULL)
//     offset 24  int64   outer
//     offset 32  int64   r
//     offset 40  int64   inner
//     offset 48  int32   splits     segments of r scanned by different blocks (>= 1)
//     offset 52  int32   phase      0: scan; 1: segment totals; 2: carries (see below)
//   };
//
//   ember_cumsum_<dt>(EmberScanArgs)    all 8 dtypes   inclusive prefix sums along r
//   ember_cumprod_<dt>(EmberScanArgs)   all 8 dtypes   inclusive prefix products along r
//
// As the CPU's cumsum: floating inputs accumulate in double and each prefix is rounded once
// to the output dtype (through float32 for f16/bf16); integers and bool accumulate in int64,
// wrapping. out must not overlap in.
//
// Launch (block = 256 threads, no dynamic shared memory; nothing to launch when
// outer * inner == 0 or r == 0):
//
//   lines = outer * inner
//   if inner == 1 and r > 2048:   blocks = outer;             span = 16384   # a block per line
//   elif inner == 1 and r > 16:   blocks = ceil(outer / 8);   span = none    # a warp per line
//   else:                         blocks = ceil(lines / 256); span = 64      # a thread per line
//   splits = 1
//   if span and blocks < 2048:    splits = max(1, min(ceil(2048 / blocks), ceil(r / span)))
//
//   splits == 1:  one launch, phase = 0, grid (blocks, 1, 1), workspace NULL.
//   splits  > 1:  three launches on one stream with the same args and grid (blocks, splits, 1)
//                 but phase = 1, then 2, then 0: per-segment totals, their exclusive prefix
//                 per line (in index order), then the segments scanned from those carries.
//
// As for reductions, any grid gives the same bits (grid y <= 65535), and any splits >= 1 is
// correct.

#include "ember_reduce.cuh"

#include <cstddef>

// ---------------------------------------------------------------- the ABI structs

struct EmberReduceArgs {
    void* out;
    void* out2;
    const void* in;
    void* workspace;
    int64_t outer;
    int64_t r;
    int64_t inner;
    double param;
    int32_t splits;
    int32_t reserved;
};

static_assert(sizeof(EmberReduceArgs) == 72, "EmberReduceArgs must be 72 bytes");
static_assert(alignof(EmberReduceArgs) == 8, "EmberReduceArgs must be 8-byte aligned");
static_assert(offsetof(EmberReduceArgs, out2) == 8, "out2 at 8");
static_assert(offsetof(EmberReduceArgs, in) == 16, "in at 16");
static_assert(offsetof(EmberReduceArgs, workspace) == 24, "workspace at 24");
static_assert(offsetof(EmberReduceArgs, outer) == 32, "outer at 32");
static_assert(offsetof(EmberReduceArgs, r) == 40, "r at 40");
static_assert(offsetof(EmberReduceArgs, inner) == 48, "inner at 48");
static_assert(offsetof(EmberReduceArgs, param) == 56, "param at 56");
static_assert(offsetof(EmberReduceArgs, splits) == 64, "splits at 64");
static_assert(offsetof(EmberReduceArgs, reserved) == 68, "reserved at 68");

struct EmberScanArgs {
    void* out;
    const void* in;
    void* workspace;
    int64_t outer;
    int64_t r;
    int64_t inner;
    int32_t splits;
    int32_t phase;
};

static_assert(sizeof(EmberScanArgs) == 56, "EmberScanArgs must be 56 bytes");
static_assert(alignof(EmberScanArgs) == 8, "EmberScanArgs must be 8-byte aligned");
static_assert(offsetof(EmberScanArgs, in) == 8, "in at 8");
static_assert(offsetof(EmberScanArgs, workspace) == 16, "workspace at 16");
static_assert(offsetof(EmberScanArgs, outer) == 24, "outer at 24");
static_assert(offsetof(EmberScanArgs, r) == 32, "r at 32");
static_assert(offsetof(EmberScanArgs, inner) == 40, "inner at 40");
static_assert(offsetof(EmberScanArgs, splits) == 48, "splits at 48");
static_assert(offsetof(EmberScanArgs, phase) == 52, "phase at 52");

namespace ember::red {

// inner == 1 rows longer than this are reduced by whole blocks (and may be split).
constexpr int64_t kLongRow = 2048;
// 16-byte loads (or rows of a tile) each thread has in flight per loop step.
constexpr int kUnroll = 4;

// ================================================================ the reduction engine
//
// An op is a struct with
//   in_t, state_t                      the stored input type and the accumulator
//   state_t identity()                 the accumulator of no elements
//   void accumulate(state_t&, in_t x, int64_t k)   folds element x at position k of the line
//   state_t combine(state_t a, state_t b)          merges two accumulators (any two disjoint sets)
//   void write(int64_t q, state_t)     stores the result of output q (finish included)

template <class Op, typename S>
__device__ __forceinline__ void emit(const Op& op, S* ws, int64_t splits, int64_t q, int64_t s, const S& st) {
    if (splits == 1) {
        op.write(q, st);
    } else {
        ws[q * splits + s] = st;
    }
}

// One thread's share of a contiguous row segment [kb, ke): 16-byte chunks c = t, t + kThreads,
// ... (relative to kb) in increasing order, then the last partial chunk, which thread
// nfull % kThreads folds. The order never depends on the address: only whether the chunks
// are read as vectors does.
template <class Op>
__device__ __forceinline__ void accumulate_row(const Op& op, typename Op::state_t& st,
                                               const typename Op::in_t* __restrict__ row, int64_t kb, int64_t ke) {
    using T = typename Op::in_t;
    constexpr int V = 16 / sizeof(T);
    const int64_t n = ke - kb;
    if (n <= 0) return;
    const T* __restrict__ p = row + kb;
    const int64_t nfull = n / V;
    const bool aligned = aligned16(p);
    const int64_t t = threadIdx.x;
    for (int64_t c0 = t; c0 < nfull; c0 += kUnroll * kThreads) {
        T v[kUnroll][V];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int64_t c = c0 + u * kThreads;
            if (c < nfull) load_chunk<T, V>(v[u], p + c * V, aligned);
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int64_t c = c0 + u * kThreads;
            if (c < nfull) {
#pragma unroll
                for (int j = 0; j < V; ++j) op.accumulate(st, v[u][j], kb + c * V + j);
            }
        }
    }
    const int64_t tail = nfull * V;
    if (tail < n && t == nfull % kThreads) {
        for (int64_t k = tail; k < n; ++k) op.accumulate(st, p[k], kb + k);
    }
}

// Long rows (inner == 1, r > kLongRow): one block per (row, split).
template <class Op>
__device__ __forceinline__ void reduce_long_rows(const Op& op, const EmberReduceArgs& a, int64_t s, int64_t kb,
                                                 int64_t ke, int64_t splits, typename Op::state_t* smem) {
    using T = typename Op::in_t;
    using S = typename Op::state_t;
    const T* __restrict__ in = static_cast<const T*>(a.in);
    S* ws = static_cast<S*>(a.workspace);
    for (int64_t o = blockIdx.x; o < a.outer; o += gridDim.x) {
        S st = op.identity();
        accumulate_row(op, st, in + o * a.r, kb, ke);
        st = block_reduce(op, st, smem);
        if (threadIdx.x == 0) emit(op, ws, splits, o, s, st);
        __syncthreads();
    }
}

// Everything else: tiles of bx outputs times a team of `by` threads along r (see tile_team).
template <class Op>
__device__ __forceinline__ void reduce_tiles(const Op& op, const EmberReduceArgs& a, int64_t s, int64_t kb, int64_t ke,
                                             int64_t splits, typename Op::state_t* smem) {
    using T = typename Op::in_t;
    using S = typename Op::state_t;
    const T* __restrict__ in = static_cast<const T*>(a.in);
    S* ws = static_cast<S*>(a.workspace);
    const int64_t r = a.r, inner = a.inner, outputs = a.outer * a.inner;
    const bool rows = inner == 1;
    const int by = tile_team(r, inner);
    const int bx = kThreads / by;
    const int tid = threadIdx.x;
    const int tx = rows ? tid / by : tid % bx;
    const int ty = rows ? tid % by : tid / bx;
    const int64_t groups = ceil_div(outputs, bx);
    for (int64_t g = blockIdx.x; g < groups; g += gridDim.x) {
        const int64_t q = g * bx + tx;
        S st = op.identity();
        if (q < outputs) {
            const int64_t o = q / inner;
            const int64_t i = q - o * inner;
            const T* __restrict__ base = in + o * r * inner + i;
            for (int64_t k0 = kb + ty; k0 < ke; k0 += kUnroll * by) {
                T v[kUnroll];
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const int64_t k = k0 + static_cast<int64_t>(u) * by;
                    if (k < ke) v[u] = base[k * inner];
                }
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const int64_t k = k0 + static_cast<int64_t>(u) * by;
                    if (k < ke) op.accumulate(st, v[u], k);
                }
            }
        }
        if (rows) {
            // The team is `by` consecutive lanes of one warp.
            st = group_reduce(op, st, by);
        } else if (by > 1) {
            // The team is the column tx of a by x bx tile (tid = ty * bx + tx).
            smem[tid] = st;
            __syncthreads();
            for (int stride = by >> 1; stride > 0; stride >>= 1) {
                if (ty < stride) smem[tid] = op.combine(smem[tid], smem[tid + stride * bx]);
                __syncthreads();
            }
            st = smem[tid];
            __syncthreads();
        }
        if (ty == 0 && q < outputs) emit(op, ws, splits, q, s, st);
    }
}

template <class Op>
__device__ __forceinline__ void reduce_main(const EmberReduceArgs& a, const Op& op, typename Op::state_t* smem) {
    const int64_t outputs = a.outer * a.inner;
    if (outputs <= 0) return;
    const int64_t splits = a.splits > 1 ? a.splits : 1;
    // Splits cover whole 16-element pieces of r, so a split of a contiguous row starts on the
    // same 16-byte alignment as the row.
    const int64_t span = ceil_div(ceil_div(a.r, splits), 16) * 16;
    // Two loops rather than a branch inside one: each schedule keeps only its own registers.
    if (a.inner == 1 && a.r > kLongRow) {
        for (int64_t s = blockIdx.y; s < splits; s += gridDim.y) {
            const int64_t kb = min64(a.r, s * span);
            reduce_long_rows(op, a, s, kb, min64(a.r, kb + span), splits, smem);
        }
    } else {
        for (int64_t s = blockIdx.y; s < splits; s += gridDim.y) {
            const int64_t kb = min64(a.r, s * span);
            reduce_tiles(op, a, s, kb, min64(a.r, kb + span), splits, smem);
        }
    }
}

// Second pass when splits > 1: output q's partials ws[q * splits + s], combined in a fixed tree.
template <class Op>
__device__ __forceinline__ void reduce_finish(const EmberReduceArgs& a, const Op& op, typename Op::state_t* smem) {
    using S = typename Op::state_t;
    const int64_t outputs = a.outer * a.inner;
    const int64_t splits = a.splits > 1 ? a.splits : 1;
    const S* ws = static_cast<const S*>(a.workspace);
    for (int64_t q = blockIdx.x; q < outputs; q += gridDim.x) {
        S st = op.identity();
        for (int64_t s = threadIdx.x; s < splits; s += kThreads) st = op.combine(st, ws[q * splits + s]);
        st = block_reduce(op, st, smem);
        if (threadIdx.x == 0) op.write(q, st);
        __syncthreads();
    }
}

template <bool FINISH, class Op>
__device__ __forceinline__ void reduce_run(const EmberReduceArgs& a, const Op& op, typename Op::state_t* smem) {
    if constexpr (FINISH) {
        reduce_finish(a, op, smem);
    } else {
        reduce_main(a, op, smem);
    }
}

// ================================================================ the ops

// sum, mean, prod. Floating inputs accumulate in float (double for f64) and give their own
// dtype; integers and bool accumulate in int64, wrapping, and give int64.
enum class Arith { kSum, kMean, kProd };

template <typename T, Arith K>
struct ArithOp {
    using in_t = T;
    using A = accumulate_t<T>;
    using state_t = A;
    using out_t = std::conditional_t<is_floating_v<T>, T, int64_t>;
    out_t* out;
    int64_t count;

    static __device__ ArithOp from(const EmberReduceArgs& a) { return ArithOp{static_cast<out_t*>(a.out), a.r}; }
    __device__ A identity() const { return K == Arith::kProd ? A(1) : A(0); }
    __device__ A combine(A x, A y) const {
        if constexpr (std::is_same_v<A, int64_t>) {
            return K == Arith::kProd ? wrap_mul(x, y) : wrap_add(x, y);
        } else {
            return K == Arith::kProd ? x * y : x + y;
        }
    }
    __device__ void accumulate(A& st, T x, int64_t) const { st = combine(st, to_acc(x)); }
    __device__ void write(int64_t q, A st) const {
        if constexpr (is_floating_v<T>) {
            // mean of no elements: 0 / 0 = NaN, as PyTorch.
            if constexpr (K == Arith::kMean) st = st / static_cast<A>(count);
            out[q] = store_from<T>(st);
        } else {
            out[q] = st;
        }
    }
};

template <typename T> using SumOp = ArithOp<T, Arith::kSum>;
template <typename T> using MeanOp = ArithOp<T, Arith::kMean>;
template <typename T> using ProdOp = ArithOp<T, Arith::kProd>;

// max / min of the values only (amax/amin, and max()/min() without a dim). NaN wins.
template <typename T, bool MAX>
struct ExtremeOp {
    using in_t = T;
    using A = accumulate_t<T>;
    using state_t = A;
    T* out;

    static __device__ ExtremeOp from(const EmberReduceArgs& a) { return ExtremeOp{static_cast<T*>(a.out)}; }
    __device__ A identity() const {
        if constexpr (is_floating_v<T>) {
            return MAX ? -m_inf<A>() : m_inf<A>();
        } else {
            return MAX ? INT64_MIN : INT64_MAX;
        }
    }
    __device__ A combine(A x, A y) const {
        if constexpr (is_floating_v<T>) {
            return MAX ? nan_max(x, y) : nan_min(x, y);
        } else {
            return MAX ? (x > y ? x : y) : (x < y ? x : y);
        }
    }
    __device__ void accumulate(A& st, T x, int64_t) const { st = combine(st, to_acc(x)); }
    __device__ void write(int64_t q, A st) const { out[q] = convert_to<T>(st); }
};

template <typename T> using MaxOp = ExtremeOp<T, true>;
template <typename T> using MinOp = ExtremeOp<T, false>;

// argmax / argmin, optionally with the values (max/min along a dim). The first of equal
// elements wins; a NaN beats every number and the first NaN wins. idx < 0: no element yet.
template <typename A> struct ArgState {
    A v;
    int64_t idx;
};

template <typename T, bool MAX>
struct ArgOp {
    using in_t = T;
    using A = accumulate_t<T>;
    using state_t = ArgState<A>;
    int64_t* indices;
    T* values;

    static __device__ ArgOp from(const EmberReduceArgs& a) {
        return ArgOp{static_cast<int64_t*>(a.out), static_cast<T*>(a.out2)};
    }
    // Whether x strictly beats y.
    static __device__ bool beats(A x, A y) {
        if constexpr (is_floating_v<T>) {
            if (x != x) return y == y;
        }
        return MAX ? x > y : x < y;
    }
    __device__ state_t identity() const { return state_t{A(0), -1}; }
    __device__ state_t combine(state_t x, state_t y) const {
        if (x.idx < 0) return y;
        if (y.idx < 0) return x;
        if (beats(y.v, x.v)) return y;
        if (beats(x.v, y.v)) return x;
        return y.idx < x.idx ? y : x;
    }
    // Elements reach one thread in increasing k, so a strict win keeps the first.
    __device__ void accumulate(state_t& st, T x, int64_t k) const {
        const A v = to_acc(x);
        if (st.idx < 0 || beats(v, st.v)) {
            st.v = v;
            st.idx = k;
        }
    }
    __device__ void write(int64_t q, state_t st) const {
        indices[q] = st.idx;
        if (values != nullptr) values[q] = convert_to<T>(st.v);
    }
};

template <typename T> using ArgmaxOp = ArgOp<T, true>;
template <typename T> using ArgminOp = ArgOp<T, false>;

// var / std: Welford's running mean and sum of squared deviations per thread, merged with
// Chan's formula; divided by max(0, n - correction) (so too few elements give inf or NaN).
template <typename A> struct WelfordState {
    A mean;
    A m2;
    int64_t n;
};

template <typename T, bool STD>
struct VarOp {
    using in_t = T;
    using A = accumulate_t<T>;
    using state_t = WelfordState<A>;
    T* out;
    double correction;

    static __device__ VarOp from(const EmberReduceArgs& a) { return VarOp{static_cast<T*>(a.out), a.param}; }
    __device__ state_t identity() const { return state_t{A(0), A(0), 0}; }
    __device__ state_t combine(state_t x, state_t y) const {
        if (x.n == 0) return y;
        if (y.n == 0) return x;
        const int64_t n = x.n + y.n;
        const A fy = static_cast<A>(y.n) / static_cast<A>(n);
        const A d = y.mean - x.mean;
        return state_t{x.mean + d * fy, x.m2 + y.m2 + d * d * static_cast<A>(x.n) * fy, n};
    }
    __device__ void accumulate(state_t& st, T x, int64_t) const {
        const A v = to_acc(x);
        st.n += 1;
        const A d = v - st.mean;
        st.mean += d / static_cast<A>(st.n);
        st.m2 += d * (v - st.mean);
    }
    __device__ void write(int64_t q, state_t st) const {
        double dof = static_cast<double>(st.n) - correction;
        if (dof < 0) dof = 0;
        A v = st.m2 / static_cast<A>(dof);
        if constexpr (STD) v = m_sqrt(v);
        out[q] = store_from<T>(v);
    }
};

template <typename T> using Variance = VarOp<T, false>;
template <typename T> using StdDev = VarOp<T, true>;

// logsumexp: log(sum exp(x - m)) + m with m the maximum; NaN anywhere gives NaN, an element
// +inf gives +inf, all -inf (or no elements) gives -inf, as PyTorch.
template <typename T>
struct LogsumexpOp {
    using in_t = T;
    using A = accumulate_t<T>;
    using state_t = LseState<A>;
    T* out;

    static __device__ LogsumexpOp from(const EmberReduceArgs& a) { return LogsumexpOp{static_cast<T*>(a.out)}; }
    __device__ state_t identity() const { return lse_identity<A>(); }
    __device__ state_t combine(state_t x, state_t y) const { return lse_combine(x, y); }
    __device__ void accumulate(state_t& st, T x, int64_t) const { lse_push(st, to_acc(x)); }
    __device__ void write(int64_t q, state_t st) const {
        A v = st.m;
        if (st.m == st.m && st.m != m_inf<A>() && st.m != -m_inf<A>()) v = m_log(st.s) + st.m;
        out[q] = store_from<T>(v);
    }
};

// norm: the kinds of p the CPU distinguishes.
enum NormKind { kNorm2, kNorm1, kNormInf, kNormNegInf, kNorm0, kNormP };

template <typename T, int K>
struct NormOp {
    using in_t = T;
    using A = accumulate_t<T>;
    using state_t = A;
    T* out;
    A p;
    A inv_p;
    int64_t count;

    static __device__ NormOp from(const EmberReduceArgs& a) {
        return NormOp{static_cast<T*>(a.out), static_cast<A>(a.param), static_cast<A>(1.0 / a.param), a.r};
    }
    __device__ A identity() const { return K == kNormNegInf ? m_inf<A>() : A(0); }
    __device__ A combine(A x, A y) const {
        if constexpr (K == kNormInf) {
            return nan_max(x, y);
        } else if constexpr (K == kNormNegInf) {
            return nan_min(x, y);
        } else {
            return x + y;
        }
    }
    __device__ void accumulate(A& st, T x, int64_t) const {
        const A v = to_acc(x);
        if constexpr (K == kNorm2) {
            st += v * v;
        } else if constexpr (K == kNorm1) {
            st += m_abs(v);
        } else if constexpr (K == kNormInf) {
            st = nan_max(st, m_abs(v));
        } else if constexpr (K == kNormNegInf) {
            st = nan_min(st, m_abs(v));
        } else if constexpr (K == kNorm0) {
            st += v != A(0) ? A(1) : A(0);
        } else {
            st += m_pow(m_abs(v), p);
        }
    }
    __device__ void write(int64_t q, A st) const {
        // Every norm of no elements is 0, as PyTorch (even where the formula gives inf).
        if constexpr (K == kNorm2) {
            st = m_sqrt(st);
        } else if constexpr (K == kNormNegInf) {
            if (count == 0) st = A(0);
        } else if constexpr (K == kNormP) {
            st = count == 0 ? A(0) : m_pow(st, inv_p);
        }
        out[q] = store_from<T>(st);
    }
};

// any / all: "not zero" (NaN is true); the result is a 0/1 byte.
template <typename T, bool ANY>
struct AnyAllOp {
    using in_t = T;
    using state_t = int32_t;
    uint8_t* out;

    static __device__ AnyAllOp from(const EmberReduceArgs& a) { return AnyAllOp{static_cast<uint8_t*>(a.out)}; }
    __device__ int32_t identity() const { return ANY ? 0 : 1; }
    __device__ int32_t combine(int32_t x, int32_t y) const { return ANY ? (x | y) : (x & y); }
    __device__ void accumulate(int32_t& st, T x, int64_t) const {
        const int32_t nz = to_acc(x) != 0 ? 1 : 0;
        st = ANY ? (st | nz) : (st & nz);
    }
    __device__ void write(int64_t q, int32_t st) const { out[q] = static_cast<uint8_t>(st); }
};

template <typename T> using AnyOp = AnyAllOp<T, true>;
template <typename T> using AllOp = AnyAllOp<T, false>;

// ================================================================ cumsum / cumprod
//
// Inclusive scans along r. Floating inputs accumulate in double and each prefix is rounded
// once to the input's dtype (through float for f16/bf16, as the CPU); integers and bool
// accumulate in int64, wrapping, and give int64.

template <typename T, bool PROD>
struct ScanOp {
    using in_t = T;
    using A = std::conditional_t<is_floating_v<T>, double, int64_t>;
    using out_t = std::conditional_t<is_floating_v<T>, T, int64_t>;

    __device__ A identity() const { return PROD ? A(1) : A(0); }
    __device__ A combine(A x, A y) const {
        if constexpr (std::is_same_v<A, int64_t>) {
            return PROD ? wrap_mul(x, y) : wrap_add(x, y);
        } else {
            return PROD ? x * y : x + y;
        }
    }
    __device__ A load(T x) const {
        if constexpr (is_floating_v<T>) {
            return static_cast<double>(load_as_compute<T>(x));
        } else {
            return static_cast<int64_t>(x);
        }
    }
    __device__ out_t store(A v) const {
        if constexpr (is_floating_v<T>) {
            return convert_to<T>(v);
        } else {
            return v;
        }
    }
};

// inner == 1 lines longer than this are scanned by a whole block, up to it (and longer than
// kScanShort) by one warp each; shorter lines and inner > 1 get one thread per line.
constexpr int64_t kScanLong = 2048;
constexpr int64_t kScanShort = 16;
constexpr int kScanItems = 8;                           // elements per lane per warp tile
constexpr int kWarpTile = 32 * kScanItems;              // 256 elements
constexpr int kStagePad = kWarpTile + kWarpTile / 8;    // one spare slot per 8: no bank conflicts

__device__ __forceinline__ int stage_slot(int i) { return i + (i >> 3); }

// A warp (BLOCK = false, kWarps lines per block) or the whole block (BLOCK = true, one line)
// scans the segment [kb, ke) of contiguous lines. Tiles of kWarpTile elements per warp are
// staged through shared memory so global loads and stores stay coalesced while each lane
// scans 8 consecutive elements.
template <class Op, bool BLOCK>
__device__ __forceinline__ void scan_team(const Op& op, const EmberScanArgs& a, int64_t s, int64_t kb, int64_t ke,
                                          int64_t splits, typename Op::A (*stage)[kStagePad],
                                          typename Op::A* warp_totals) {
    using T = typename Op::in_t;
    using A = typename Op::A;
    using O = typename Op::out_t;
    const T* __restrict__ in = static_cast<const T*>(a.in);
    O* __restrict__ out = static_cast<O*>(a.out);
    A* ws = static_cast<A*>(a.workspace);
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int64_t r = a.r;
    const int64_t lines_per_step = BLOCK ? 1 : kWarps;
    const int64_t steps = ceil_div(a.outer, lines_per_step);
    A* buf = stage[warp];
    for (int64_t g = blockIdx.x; g < steps; g += gridDim.x) {
        const int64_t line = BLOCK ? g : g * kWarps + warp;
        if (!BLOCK && line >= a.outer) continue;  // the whole warp skips
        const T* __restrict__ row = in + line * r;
        if (a.phase == 1) {
            // The segment's total, for the carries of the later segments.
            A acc = op.identity();
            const int team = BLOCK ? kThreads : 32;
            const int t = BLOCK ? static_cast<int>(threadIdx.x) : lane;
            for (int64_t k = kb + t; k < ke; k += team) acc = op.combine(acc, op.load(row[k]));
            if (BLOCK) {
                acc = block_reduce(op, acc, warp_totals);
                if (threadIdx.x == 0) ws[line * splits + s] = acc;
                __syncthreads();
            } else {
                acc = group_reduce(op, acc, 32);
                if (lane == 0) ws[line * splits + s] = acc;
            }
            continue;
        }
        O* __restrict__ orow = out + line * r;
        A carry = splits > 1 ? ws[line * splits + s] : op.identity();
        const int64_t tile = BLOCK ? static_cast<int64_t>(kWarps) * kWarpTile : kWarpTile;
        for (int64_t base = kb; base < ke; base += tile) {
            const int64_t sub = base + (BLOCK ? static_cast<int64_t>(warp) * kWarpTile : 0);
#pragma unroll
            for (int j = 0; j < kScanItems; ++j) {
                const int idx = j * 32 + lane;
                const int64_t k = sub + idx;
                buf[stage_slot(idx)] = k < ke ? op.load(row[k]) : op.identity();
            }
            __syncwarp();
            A v[kScanItems];
#pragma unroll
            for (int j = 0; j < kScanItems; ++j) v[j] = buf[stage_slot(lane * kScanItems + j)];
#pragma unroll
            for (int j = 1; j < kScanItems; ++j) v[j] = op.combine(v[j - 1], v[j]);
            // Inclusive scan of the lane totals (Hillis-Steele), then shifted to exclusive.
            A incl = v[kScanItems - 1];
#pragma unroll
            for (int off = 1; off < 32; off <<= 1) {
                const A y = shfl_up(incl, off);
                if (lane >= off) incl = op.combine(y, incl);
            }
            A excl = shfl_up(incl, 1);
            if (lane == 0) excl = op.identity();
            const A warp_total = shfl_idx(incl, 31);
            A prefix = carry;
            A tile_total = warp_total;
            if (BLOCK) {
                if (lane == 0) warp_totals[warp] = warp_total;
                __syncthreads();
                A before = op.identity();
                A all = op.identity();
                for (int w = 0; w < kWarps; ++w) {
                    if (w == warp) before = all;
                    all = op.combine(all, warp_totals[w]);
                }
                __syncthreads();
                prefix = op.combine(carry, before);
                tile_total = all;
            }
            const A lane_prefix = op.combine(prefix, excl);
#pragma unroll
            for (int j = 0; j < kScanItems; ++j) buf[stage_slot(lane * kScanItems + j)] = op.combine(lane_prefix, v[j]);
            __syncwarp();
#pragma unroll
            for (int j = 0; j < kScanItems; ++j) {
                const int idx = j * 32 + lane;
                const int64_t k = sub + idx;
                if (k < ke) orow[k] = op.store(buf[stage_slot(idx)]);
            }
            __syncwarp();
            carry = op.combine(carry, tile_total);
        }
    }
}

// One thread per line (inner > 1, or short contiguous lines): sequential along r.
template <class Op>
__device__ __forceinline__ void scan_columns(const Op& op, const EmberScanArgs& a, int64_t s, int64_t kb,
                                             int64_t ke, int64_t splits) {
    using T = typename Op::in_t;
    using A = typename Op::A;
    using O = typename Op::out_t;
    const T* __restrict__ in = static_cast<const T*>(a.in);
    O* __restrict__ out = static_cast<O*>(a.out);
    A* ws = static_cast<A*>(a.workspace);
    const int64_t r = a.r, inner = a.inner, lines = a.outer * a.inner;
    const bool totals = a.phase == 1;
    const int64_t steps = ceil_div(lines, kThreads);
    for (int64_t g = blockIdx.x; g < steps; g += gridDim.x) {
        const int64_t q = g * kThreads + threadIdx.x;
        if (q >= lines) continue;
        const int64_t o = q / inner;
        const int64_t i = q - o * inner;
        const T* __restrict__ p = in + o * r * inner + i;
        O* __restrict__ w = out + o * r * inner + i;
        A acc = (totals || splits == 1) ? op.identity() : ws[q * splits + s];
        for (int64_t k0 = kb; k0 < ke; k0 += kUnroll) {
            A v[kUnroll];
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                const int64_t k = k0 + u;
                v[u] = k < ke ? op.load(p[k * inner]) : op.identity();
            }
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                const int64_t k = k0 + u;
                if (k < ke) {
                    acc = op.combine(acc, v[u]);
                    if (!totals) w[k * inner] = op.store(acc);
                }
            }
        }
        if (totals) ws[q * splits + s] = acc;
    }
}

template <class Op>
__device__ __forceinline__ void scan_run(const EmberScanArgs& a, const Op& op) {
    using A = typename Op::A;
    __shared__ A stage[kWarps][kStagePad];
    __shared__ A warp_totals[kWarps];
    const int64_t lines = a.outer * a.inner;
    const int64_t r = a.r;
    if (lines <= 0 || r <= 0) return;
    const int64_t splits = a.splits > 1 ? a.splits : 1;
    A* ws = static_cast<A*>(a.workspace);
    if (a.phase == 2) {
        // Each line's segment totals become exclusive prefixes (carries), in index order.
        const int64_t nthreads = static_cast<int64_t>(gridDim.x) * gridDim.y * kThreads;
        const int64_t first = (static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x) * kThreads + threadIdx.x;
        for (int64_t l = first; l < lines; l += nthreads) {
            A run = op.identity();
            for (int64_t s = 0; s < splits; ++s) {
                const A t = ws[l * splits + s];
                ws[l * splits + s] = run;
                run = op.combine(run, t);
            }
        }
        return;
    }
    const int64_t span = ceil_div(r, splits);
    if (a.inner == 1 && r > kScanLong) {
        for (int64_t s = blockIdx.y; s < splits; s += gridDim.y) {
            const int64_t kb = min64(r, s * span);
            scan_team<Op, true>(op, a, s, kb, min64(r, kb + span), splits, stage, warp_totals);
        }
    } else if (a.inner == 1 && r > kScanShort) {
        for (int64_t s = blockIdx.y; s < splits; s += gridDim.y) {
            const int64_t kb = min64(r, s * span);
            scan_team<Op, false>(op, a, s, kb, min64(r, kb + span), splits, stage, warp_totals);
        }
    } else {
        for (int64_t s = blockIdx.y; s < splits; s += gridDim.y) {
            const int64_t kb = min64(r, s * span);
            scan_columns(op, a, s, kb, min64(r, kb + span), splits);
        }
    }
}

}  // namespace ember::red

using namespace ember::red;

// The workspace sizes documented above.
static_assert(sizeof(ArgState<float>) == 16 && sizeof(ArgState<double>) == 16 && sizeof(ArgState<int64_t>) == 16,
              "argmax/argmin partials are 16 bytes");
static_assert(sizeof(WelfordState<float>) == 16 && sizeof(WelfordState<double>) == 24, "var/std partials");
static_assert(sizeof(LseState<float>) == 8 && sizeof(LseState<double>) == 16, "logsumexp partials");

// ================================================================ entry points

#define EMBER_REDUCE_ENTRY(name, dt, OP)                                                        \
    extern "C" __global__ void __launch_bounds__(256) ember_reduce_##name##_##dt(EmberReduceArgs a) { \
        __shared__ OP::state_t smem[kThreads];                                                  \
        reduce_run<false>(a, OP::from(a), smem);                                                \
    }                                                                                           \
    extern "C" __global__ void __launch_bounds__(256) ember_reduce_##name##_finish_##dt(EmberReduceArgs a) { \
        __shared__ OP::state_t smem[kThreads];                                                  \
        reduce_run<true>(a, OP::from(a), smem);                                                 \
    }

#define EMBER_REDUCE_ALL_DTYPES(dt, T)          \
    EMBER_REDUCE_ENTRY(sum, dt, SumOp<T>)       \
    EMBER_REDUCE_ENTRY(prod, dt, ProdOp<T>)     \
    EMBER_REDUCE_ENTRY(max, dt, MaxOp<T>)       \
    EMBER_REDUCE_ENTRY(min, dt, MinOp<T>)       \
    EMBER_REDUCE_ENTRY(argmax, dt, ArgmaxOp<T>) \
    EMBER_REDUCE_ENTRY(argmin, dt, ArgminOp<T>) \
    EMBER_REDUCE_ENTRY(any, dt, AnyOp<T>)       \
    EMBER_REDUCE_ENTRY(all, dt, AllOp<T>)

template <typename T> using Norm2Op = NormOp<T, kNorm2>;
template <typename T> using Norm1Op = NormOp<T, kNorm1>;
template <typename T> using NormInfOp = NormOp<T, kNormInf>;
template <typename T> using NormNegInfOp = NormOp<T, kNormNegInf>;
template <typename T> using Norm0Op = NormOp<T, kNorm0>;
template <typename T> using NormPOp = NormOp<T, kNormP>;

#define EMBER_REDUCE_FLOATING(dt, T)                      \
    EMBER_REDUCE_ENTRY(mean, dt, MeanOp<T>)               \
    EMBER_REDUCE_ENTRY(var, dt, Variance<T>)              \
    EMBER_REDUCE_ENTRY(std, dt, StdDev<T>)                \
    EMBER_REDUCE_ENTRY(logsumexp, dt, LogsumexpOp<T>)     \
    EMBER_REDUCE_ENTRY(norm2, dt, Norm2Op<T>)             \
    EMBER_REDUCE_ENTRY(norm1, dt, Norm1Op<T>)             \
    EMBER_REDUCE_ENTRY(norminf, dt, NormInfOp<T>)         \
    EMBER_REDUCE_ENTRY(normneginf, dt, NormNegInfOp<T>)   \
    EMBER_REDUCE_ENTRY(norm0, dt, Norm0Op<T>)             \
    EMBER_REDUCE_ENTRY(normp, dt, NormPOp<T>)

#define EMBER_SCAN_ENTRIES(dt, T)                                                               \
    extern "C" __global__ void __launch_bounds__(256) ember_cumsum_##dt(EmberScanArgs a) {      \
        scan_run(a, ScanOp<T, false>{});                                                        \
    }                                                                                           \
    extern "C" __global__ void __launch_bounds__(256) ember_cumprod_##dt(EmberScanArgs a) {     \
        scan_run(a, ScanOp<T, true>{});                                                         \
    }

EMBER_FOR_EACH_DTYPE(EMBER_REDUCE_ALL_DTYPES)
EMBER_FOR_EACH_FLOATING(EMBER_REDUCE_FLOATING)
EMBER_FOR_EACH_DTYPE(EMBER_SCAN_ENTRIES)

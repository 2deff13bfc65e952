// softmax and log-softmax along one axis, forward and backward, for the floating dtypes.
//
// Layout (the host's job): every buffer is contiguous and viewed as [outer, r, inner]; the
// softmax runs along the middle axis (r elements). Element (o, k, i) is at
// [(o * r + k) * inner + i]. The last-dim case is inner = 1. Pointers are element 0 of each
// buffer, aligned to the element size (16-byte alignment lets long rows use vector loads;
// results are the same either way). out must not overlap in or grad (the kernels read their
// inputs through restrict-qualified, read-only paths).
//
//   struct EmberSoftmaxArgs {         48 bytes, 8-byte aligned
//     offset  0  void*       out     forward: y; backward: dx
//     offset  8  const void* in      forward: x; backward: y, the forward's output
//     offset 16  const void* grad    backward: dy; forward: ignored (NULL)
//     offset 24  int64       outer
//     offset 32  int64       r
//     offset 40  int64       inner
//   };
//
// Entry points, <dt> in f32 f64 f16 bf16 (all buffers of that dtype; the arithmetic runs in
// float, double for f64):
//
//   ember_softmax_<dt>(EmberSoftmaxArgs)               y  = exp(x - m) / sum exp(x - m)
//   ember_log_softmax_<dt>(EmberSoftmaxArgs)           y  = (x - m) - log(sum exp(x - m))
//   ember_softmax_backward_<dt>(EmberSoftmaxArgs)      dx = y * (dy - sum(dy * y))
//   ember_log_softmax_backward_<dt>(EmberSoftmaxArgs)  dx = dy - exp(y) * sum(dy)
//
// m is the line's maximum. As the CPU (and PyTorch): a line whose maximum is not finite (it
// holds +inf or a NaN, or only -inf) gives NaN everywhere; -inf elements of other lines give
// 0 (log-softmax: -inf). The maximum and the sum come from one pass (running maximum, sum
// rescaled when it grows), combined in a fixed order: results never change from run to run.
//
// Schedules, chosen by the kernel from the sizes:
//   - inner == 1 and r > 1024: one block per row. Pass 1 reads the row with 16-byte loads and
//     keeps it in dynamic shared memory when the launch gave enough (below); pass 2 reads it
//     back from there (or, for rows too long to keep, from global memory) and writes.
//   - otherwise, tiles: 256 / by lines side by side, a team of `by` threads along r for each
//     (inner == 1: `by` lanes of one warp per row, combined with shuffles; inner > 1: the
//     lines are consecutive (o, i), so lanes read consecutive i, and the team combines
//     through shared memory). The second read of the tile mostly hits L1/L2.
//
// Launch (block = 256 threads; nothing to launch when outer * inner == 0 or r == 0):
//
//   if inner == 1 and r > 1024:
//       grid = (outer, 1, 1)
//       bytes = (backward ? 2 : 1) * ceil(r * sizeof(dt) / 16) * 16
//       dynamic shared memory = bytes if bytes <= 32768 else 0
//   else:
//       by   = inner == 1 ? min(32, next_pow2(ceil(r / 8)))
//                         : min(256 / min(256, next_pow2(inner)), next_pow2(r))
//       grid = (ceil(outer * inner / (256 / by)), 1, 1);  dynamic shared memory = 0
//
// (next_pow2(v): the smallest power of two >= v, 1 for v <= 1.) The kernels loop over rows
// and tiles, so any grid x >= 1 is correct and gives the same bits; dynamic shared memory 0
// only turns the row cache off (same bits, one more read of each long row). Static shared
// memory is at most 4 KiB, so the total stays under the 48 KiB that needs no opt-in.

#include "ember_reduce.cuh"

#include <cstddef>

struct EmberSoftmaxArgs {
    void* out;
    const void* in;
    const void* grad;
    int64_t outer;
    int64_t r;
    int64_t inner;
};

static_assert(sizeof(EmberSoftmaxArgs) == 48, "EmberSoftmaxArgs must be 48 bytes");
static_assert(alignof(EmberSoftmaxArgs) == 8, "EmberSoftmaxArgs must be 8-byte aligned");
static_assert(offsetof(EmberSoftmaxArgs, in) == 8, "in at 8");
static_assert(offsetof(EmberSoftmaxArgs, grad) == 16, "grad at 16");
static_assert(offsetof(EmberSoftmaxArgs, outer) == 24, "outer at 24");
static_assert(offsetof(EmberSoftmaxArgs, r) == 32, "r at 32");
static_assert(offsetof(EmberSoftmaxArgs, inner) == 40, "inner at 40");

namespace ember::softmax {

using namespace ember::red;

// inner == 1 rows longer than this get a block each; shorter ones a team of lanes (tiles).
constexpr int64_t kLongRow = 1024;
// Longer rows are kept in shared memory when they fit in this many bytes (per input).
constexpr int64_t kCacheBytes = 32768;
constexpr int kUnroll = 4;

// The bytes of dynamic shared memory this launch was given.
__device__ __forceinline__ uint32_t dynamic_smem_bytes() {
    uint32_t n;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(n));
    return n;
}

// The per-line statistic: forward, logsumexp's (max, sum) state; backward, a plain sum.
template <typename A> struct LseCombine {
    __device__ LseState<A> identity() const { return lse_identity<A>(); }
    __device__ LseState<A> combine(LseState<A> x, LseState<A> y) const { return lse_combine(x, y); }
};
template <typename A> struct SumCombine {
    __device__ A identity() const { return A(0); }
    __device__ A combine(A x, A y) const { return x + y; }
};

// Forward (BWD = false): in = x, out = y. Backward: in = y (the forward's output), grad = dy,
// out = dx. What one element contributes to the line's statistic, and its result.
template <typename T, bool LOG, bool BWD>
struct Line {
    using A = accumulate_t<T>;
    using stat_t = std::conditional_t<BWD, A, LseState<A>>;
    using combine_t = std::conditional_t<BWD, SumCombine<A>, LseCombine<A>>;

    // After the line's statistic is known: what every element needs.
    struct Final {
        A m;      // forward: the maximum
        A scale;  // forward: 1 / sum (softmax) or log(sum) (log-softmax); backward: the sum
        bool bad;  // forward: the maximum is not finite, every result is NaN
    };

    static __device__ void push(stat_t& st, A x, A g) {
        if constexpr (BWD) {
            st += LOG ? g : g * x;
        } else {
            lse_push(st, x);
        }
    }
    static __device__ Final finish(stat_t st) {
        if constexpr (BWD) {
            return Final{A(0), st, false};
        } else {
            const bool bad = !(st.m > -m_inf<A>() && st.m < m_inf<A>());
            return Final{st.m, LOG ? m_log(st.s) : A(1) / st.s, bad};
        }
    }
    static __device__ A result(const Final& f, A x, A g) {
        if constexpr (BWD) {
            // softmax: dx = y (dy - sum(dy y)); log-softmax: dx = dy - exp(y) sum(dy).
            return LOG ? g - m_exp(x) * f.scale : x * (g - f.scale);
        } else {
            if (f.bad) return m_nan<A>();
            return LOG ? (x - f.m) - f.scale : m_exp(x - f.m) * f.scale;
        }
    }
};

// ---------------------------------------------------------------- longer rows: a block per row

// Pass 1 reads the row (16-byte chunks c = t, t + kThreads, ...; the partial last chunk by
// thread nfull % kThreads), folds the statistic and, when the launch gave enough dynamic
// shared memory, keeps the chunks there. Pass 2 visits the same chunks in the same threads
// (so the cache needs no barrier) and writes the results.
template <typename T, bool LOG, bool BWD>
__device__ __forceinline__ void rows_in_blocks(const EmberSoftmaxArgs& a, typename Line<T, LOG, BWD>::stat_t* scratch) {
    using L = Line<T, LOG, BWD>;
    using A = typename L::A;
    using S = typename L::stat_t;
    constexpr int V = 16 / sizeof(T);
    // Chunks per step: at most 16 elements (each costs an exp: code size), and half as many
    // backward, which reads two inputs.
    constexpr int U0 = V >= 8 ? kUnroll / 2 : kUnroll;
    constexpr int U = BWD ? U0 / 2 : U0;
    extern __shared__ uint4 dynamic_cache[];
    const T* __restrict__ in = static_cast<const T*>(a.in);
    const T* __restrict__ grad = static_cast<const T*>(a.grad);
    T* __restrict__ out = static_cast<T*>(a.out);
    const int64_t r = a.r;
    const int64_t padded = ceil_div(r, V) * V;  // elements per cached input, whole chunks
    const int64_t need = (BWD ? 2 : 1) * padded * static_cast<int64_t>(sizeof(T));
    const bool cache = need <= kCacheBytes && need <= static_cast<int64_t>(dynamic_smem_bytes());
    T* cx = reinterpret_cast<T*>(dynamic_cache);
    T* cg = cx + padded;
    const int64_t nfull = r / V;
    const int64_t tail = nfull * V;
    const int64_t t = threadIdx.x;
    const bool tail_here = tail < r && t == nfull % kThreads;
    for (int64_t row = blockIdx.x; row < a.outer; row += gridDim.x) {
        const T* __restrict__ px = in + row * r;
        const T* __restrict__ pg = BWD ? grad + row * r : nullptr;
        T* __restrict__ py = out + row * r;
        const bool vin = aligned16(px) && (!BWD || aligned16(pg));
        const bool vout = aligned16(py);

        S st = typename L::combine_t{}.identity();
        for (int64_t c0 = t; c0 < nfull; c0 += U * kThreads) {
            T xv[U][V];
            T gv[U][V];
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * kThreads;
                if (c < nfull) {
                    load_chunk<T, V>(xv[u], px + c * V, vin);
                    if constexpr (BWD) load_chunk<T, V>(gv[u], pg + c * V, vin);
                }
            }
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * kThreads;
                if (c < nfull) {
                    if (cache) {
                        store_chunk<T, V>(cx + c * V, xv[u], true);
                        if constexpr (BWD) store_chunk<T, V>(cg + c * V, gv[u], true);
                    }
#pragma unroll
                    for (int j = 0; j < V; ++j) L::push(st, to_acc(xv[u][j]), BWD ? to_acc(gv[u][j]) : A(0));
                }
            }
        }
        if (tail_here) {
            for (int64_t k = tail; k < r; ++k) {
                const T xs = px[k];
                const T gs = BWD ? pg[k] : xs;
                if (cache) {
                    cx[k] = xs;
                    if constexpr (BWD) cg[k] = gs;
                }
                L::push(st, to_acc(xs), BWD ? to_acc(gs) : A(0));
            }
        }
        const typename L::Final f = L::finish(block_reduce_all(typename L::combine_t{}, st, scratch));

        for (int64_t c0 = t; c0 < nfull; c0 += U * kThreads) {
            T xv[U][V];
            T gv[U][V];
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * kThreads;
                if (c < nfull) {
                    if (cache) {
                        load_chunk_shared<T, V>(xv[u], cx + c * V);
                        if constexpr (BWD) load_chunk_shared<T, V>(gv[u], cg + c * V);
                    } else {
                        load_chunk<T, V>(xv[u], px + c * V, vin);
                        if constexpr (BWD) load_chunk<T, V>(gv[u], pg + c * V, vin);
                    }
                }
            }
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const int64_t c = c0 + u * kThreads;
                if (c < nfull) {
                    T yv[V];
#pragma unroll
                    for (int j = 0; j < V; ++j) {
                        yv[j] = store_from<T>(L::result(f, to_acc(xv[u][j]), BWD ? to_acc(gv[u][j]) : A(0)));
                    }
                    store_chunk<T, V>(py + c * V, yv, vout);
                }
            }
        }
        if (tail_here) {
            for (int64_t k = tail; k < r; ++k) {
                const A xs = to_acc(cache ? cx[k] : px[k]);
                const A gs = BWD ? to_acc(cache ? cg[k] : pg[k]) : A(0);
                py[k] = store_from<T>(L::result(f, xs, gs));
            }
        }
    }
}

// ---------------------------------------------------------------- tiles: short rows and inner > 1

// bx lines side by side, a team of `by` threads along r for each (see tile_team): for
// inner == 1 the team is `by` consecutive lanes of a warp, combined with shuffles; for
// inner > 1 the bx lines are consecutive (o, i) positions and the team (a column of the
// by x bx tile) is combined through shared memory. Pass 2 reads the line again (the tile was
// just read, so mostly from L1/L2) and writes the results.
template <typename T, bool LOG, bool BWD>
__device__ __forceinline__ void tiles(const EmberSoftmaxArgs& a, typename Line<T, LOG, BWD>::stat_t* smem) {
    using L = Line<T, LOG, BWD>;
    using A = typename L::A;
    using S = typename L::stat_t;
    const typename L::combine_t op{};
    const T* __restrict__ in = static_cast<const T*>(a.in);
    const T* __restrict__ grad = static_cast<const T*>(a.grad);
    T* __restrict__ out = static_cast<T*>(a.out);
    const int64_t r = a.r, inner = a.inner, lines = a.outer * a.inner;
    const bool rows = inner == 1;
    const int by = tile_team(r, inner);
    const int bx = kThreads / by;
    const int tid = threadIdx.x;
    const int tx = rows ? tid / by : tid % bx;
    const int ty = rows ? tid % by : tid / bx;
    const int64_t groups = ceil_div(lines, bx);
    for (int64_t g = blockIdx.x; g < groups; g += gridDim.x) {
        const int64_t q = g * bx + tx;
        const bool valid = q < lines;
        const int64_t o = valid ? q / inner : 0;
        const int64_t base = valid ? o * r * inner + (q - o * inner) : 0;
        S st = op.identity();
        if (valid) {
            for (int64_t k0 = ty; k0 < r; k0 += kUnroll * by) {
                A xv[kUnroll];
                A gv[kUnroll];
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const int64_t k = k0 + static_cast<int64_t>(u) * by;
                    if (k < r) {
                        xv[u] = to_acc(in[base + k * inner]);
                        gv[u] = BWD ? to_acc(grad[base + k * inner]) : A(0);
                    }
                }
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const int64_t k = k0 + static_cast<int64_t>(u) * by;
                    if (k < r) L::push(st, xv[u], gv[u]);
                }
            }
        }
        if (rows) {
            // Every lane of the group gets the same bits.
            st = group_reduce(op, st, by);
        } else if (by > 1) {
            smem[tid] = st;
            __syncthreads();
            for (int stride = by >> 1; stride > 0; stride >>= 1) {
                if (ty < stride) smem[tid] = op.combine(smem[tid], smem[tid + stride * bx]);
                __syncthreads();
            }
            st = smem[tx];
            __syncthreads();
        }
        const typename L::Final f = L::finish(st);
        if (valid) {
            for (int64_t k0 = ty; k0 < r; k0 += kUnroll * by) {
                A xv[kUnroll];
                A gv[kUnroll];
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const int64_t k = k0 + static_cast<int64_t>(u) * by;
                    if (k < r) {
                        xv[u] = to_acc(in[base + k * inner]);
                        gv[u] = BWD ? to_acc(grad[base + k * inner]) : A(0);
                    }
                }
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const int64_t k = k0 + static_cast<int64_t>(u) * by;
                    if (k < r) out[base + k * inner] = store_from<T>(L::result(f, xv[u], gv[u]));
                }
            }
        }
    }
}

template <typename T, bool LOG, bool BWD>
__device__ __forceinline__ void softmax_run(const EmberSoftmaxArgs& a) {
    using S = typename Line<T, LOG, BWD>::stat_t;
    __shared__ S smem[kThreads];
    if (a.outer <= 0 || a.inner <= 0 || a.r <= 0) return;
    if (a.inner == 1 && a.r > kLongRow) {
        rows_in_blocks<T, LOG, BWD>(a, smem);
    } else {
        tiles<T, LOG, BWD>(a, smem);
    }
}

}  // namespace ember::softmax

#define EMBER_SOFTMAX_ENTRIES(dt, T)                                                                   \
    extern "C" __global__ void __launch_bounds__(256) ember_softmax_##dt(EmberSoftmaxArgs a) {         \
        ember::softmax::softmax_run<T, false, false>(a);                                               \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) ember_log_softmax_##dt(EmberSoftmaxArgs a) {     \
        ember::softmax::softmax_run<T, true, false>(a);                                                \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) ember_softmax_backward_##dt(EmberSoftmaxArgs a) { \
        ember::softmax::softmax_run<T, false, true>(a);                                                \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) ember_log_softmax_backward_##dt(EmberSoftmaxArgs a) { \
        ember::softmax::softmax_run<T, true, true>(a);                                                 \
    }

EMBER_FOR_EACH_FLOATING(EMBER_SOFTMAX_ENTRIES)

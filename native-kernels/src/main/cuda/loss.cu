// Fused classification losses: cross-entropy of logits and NLL of log-probabilities, with
// int64 class targets, as nn.CrossEntropyLoss / nn.NLLLoss and Ember's CPU definition
// (nn/.../Functional.java crossEntropy/nllLoss/classIndexLoss, ClassTargets.java).
//
// ---------------------------------------------------------------------------------------
// Semantics, per row r of [rows, classes] (C = classes, t = target[r], eps = label_smoothing,
// w = the class weights, or all ones when weight is null; computed in A, the accumulation
// type: float for f32/f16/bf16, double for f64)
// ---------------------------------------------------------------------------------------
//   lse_r  = log(sum_c exp(x_rc))       (max-shifted, one online pass; NaN in a row, a
//                                        +inf logit, or a row of only -inf give NaN as
//                                        torch.log_softmax does)
//   lp_rc  = x_rc - lse_r                (log_softmax)
//   nll_r  = (-lp_rt) * w_t
//   loss_r = nll_r                                               if eps == 0
//          = nll_r * (1 - eps) + (-sum_c lp_rc * w_c) * (eps / C)  if eps > 0
//   weight_r = w_t
// A row whose target equals ignore_index has loss_r = +0 and weight_r = 0 (PyTorch's CUDA
// kernels skip such rows; written as 0 even when the row's logits hold inf or NaN).
// Reductions: none -> loss_r per row; sum -> sum_r loss_r; mean -> sum_r loss_r / sum_r
// weight_r (PyTorch's rule: the sum of the weights of the non-ignored targets; 0/0 = NaN
// when every target is ignored). NLL is the same with lp_rc = input_rc and eps = 0.
//
// Gradients (g_r = dloss[r] for none, dloss[0] for sum, dloss[0] / total_weight for mean):
//   cross-entropy: dx_rc = g_r * (p_rc * a_r - [c == t] * (1 - eps) * w_t - (eps / C) * w_c)
//                  with p_rc = exp(lp_rc), a_r = (1 - eps) * w_t + (eps / C) * sum_c w_c;
//                  without weights and smoothing this is g_r * (softmax - one_hot)
//   nll:           dx_rc = -(w_t * g_r) at c == t, 0 elsewhere
//   ignored rows get an all-zero gradient row.
//
// Out-of-range targets (t != ignore_index and t outside [0, C)) are never used to address
// memory: the row is treated as ignored and the row index r is reported into the
// EmberIndexError record (see ember_index_error.cuh; the host sets it to {0, 0, INT64_MAX}
// once and reads it back; position = the smallest bad row; it then reads target[position]
// and throws "Target X is out of bounds. ..." as ClassTargets.checkRange does). The error
// pointer may be null.
//
// Deterministic: no float atomics anywhere. Row results come from fixed-order reductions
// within a warp or block; the final sum over rows is one block's fixed-order reduction.
// Results depend on the launch configuration (which the rules below fix from the shapes).
//
// ---------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------
// logits / log-probabilities / dlogits: [rows, classes], contiguous, row-major (for an input
// [N, C, d1, ...] the host moves the class dim last, input.movedim(1, -1).contiguous(), and
// moves the gradient back). target: [rows] int64, contiguous. weight: [classes] of T,
// contiguous, or null. Per-row workspaces (row_loss, row_weight, lse) are [rows] of A.
// All pointers aligned to their element size.
//
// ---------------------------------------------------------------------------------------
// Entry points (T = float, double, __half, __nv_bfloat16 for f32, f64, f16, bf16;
// A = float, double, float, float)
// ---------------------------------------------------------------------------------------
//   ember_loss_cross_entropy_fwd_<dt>(const T* logits, const int64_t* target, const T* weight,
//       int64_t rows, int64_t classes, int64_t ignore_index, double label_smoothing,
//       T* out, A* row_loss, A* row_weight, A* lse, EmberIndexError* error,
//       int32_t warp_per_row)
//     Per row: out[r] = T(loss_r) if out != null (reduction none), row_loss[r] = loss_r,
//     row_weight[r] = weight_r, lse[r] = lse_r, each only where the pointer is not null.
//     For sum/mean pass row_loss (and row_weight for mean) and finish with
//     ember_loss_reduce_<dt>; keep lse for the backward (it saves a pass over the logits).
//
//   ember_loss_cross_entropy_bwd_<dt>(T* dlogits, const T* logits, const int64_t* target,
//       const T* weight, const A* lse, const T* dloss, const A* total_weight,
//       int32_t reduction, int64_t rows, int64_t classes, int64_t ignore_index,
//       double label_smoothing, EmberIndexError* error, int32_t warp_per_row)
//     Writes every element of dlogits [rows, classes]. lse: the forward's, or null to
//     recompute it. reduction: 0 none (dloss is [rows]), 1 mean (dloss[0] / total_weight[0];
//     total_weight is the reduce kernel's output), 2 sum (dloss[0]); total_weight is only
//     read for mean.
//
//   ember_loss_nll_fwd_<dt>(const T* logp, const int64_t* target, const T* weight,
//       int64_t rows, int64_t classes, int64_t ignore_index, T* out, A* row_loss,
//       A* row_weight, EmberIndexError* error)
//     As the cross-entropy forward, on log-probabilities, without smoothing.
//
//   ember_loss_nll_bwd_<dt>(T* dlogp, const int64_t* target, const T* weight,
//       const T* dloss, const A* total_weight, int32_t reduction, int64_t rows,
//       int64_t classes, int64_t ignore_index, EmberIndexError* error)
//     Writes every element of dlogp [rows, classes] (no zero fill needed).
//
//   ember_loss_reduce_<dt>(T* out, A* total_weight, const A* row_loss, const A* row_weight,
//       int64_t rows, int32_t reduction)
//     out[0] = T(sum of row_loss) for reduction 2 (sum), T(sum of row_loss / sum of
//     row_weight) for 1 (mean); total_weight[0] = sum of row_weight if total_weight is not
//     null (row_weight is required for mean or a non-null total_weight). rows may be 0.
//
// ---------------------------------------------------------------------------------------
// Launch
// ---------------------------------------------------------------------------------------
// cross_entropy_fwd/bwd: blockDim.x a multiple of 32, at most 1024; any grid (rows are
//     shared out with a grid stride). warp_per_row != 0: each warp owns a row (good for
//     few classes); 0: each block owns a row (good for many classes). Rule (fixes the
//     summation order, so results are reproducible): warp_per_row = classes <= 1024;
//     block 256; blocks = ceil(rows / 8) with warps, rows with blocks (cap either at a few
//     waves of the SMs). Use the same rule for the forward and the backward. Static shared
//     memory only (at most 512 bytes), no dynamic shared memory.
// nll_fwd: any 1-D grid, any block (thread per row): block 256, ceil(rows / 256) blocks.
// nll_bwd: any 1-D grid, any block (thread per element): block 256,
//     ceil(rows * classes / 256) blocks, capped.
// reduce: exactly ONE block (grid 1); blockDim.x a multiple of 32, at most 1024; use 512
//     (the result depends on it, so keep it fixed).
// Workspace (host-allocated, no zeroing needed): row_loss [rows] A for sum/mean, row_weight
// [rows] A for mean, lse [rows] A (optional), total_weight [1] A for mean's backward.

#include "ember_common.cuh"
#include "ember_dtypes.cuh"
#include "ember_index_error.cuh"

#include <cmath>

namespace ember::loss {

constexpr unsigned kFullMask = 0xFFFFFFFFu;

enum Reduction : int32_t { kNone = 0, kMean = 1, kSum = 2 };

// __host__ too, so the log-sum-exp edge cases can be checked without a GPU.
template <typename A> __host__ __device__ __forceinline__ A infinity();
template <> __host__ __device__ __forceinline__ float infinity<float>() { return __builtin_huge_valf(); }
template <> __host__ __device__ __forceinline__ double infinity<double>() { return __builtin_huge_val(); }

template <typename A> __host__ __device__ __forceinline__ A quiet_nan();
template <> __host__ __device__ __forceinline__ float quiet_nan<float>() { return __builtin_nanf(""); }
template <> __host__ __device__ __forceinline__ double quiet_nan<double>() { return __builtin_nan(""); }

// exp and log in A: the accurate library functions (no fast-math intrinsics).
__host__ __device__ __forceinline__ float exp_of(float x) { return expf(x); }
__host__ __device__ __forceinline__ double exp_of(double x) { return exp(x); }
__host__ __device__ __forceinline__ float log_of(float x) { return logf(x); }
__host__ __device__ __forceinline__ double log_of(double x) { return log(x); }

// ----------------------------------------------------------------------------- online log-sum-exp

// (max, sum of exp(x - max)) over the values seen so far. Starts at (-inf, 0).
template <typename A>
struct LogSumExp {
    A max;
    A sum;

    __host__ __device__ __forceinline__ void add(A x) {
        if (x > max) {
            // The old terms are rescaled to the new max; the new term is exp(0) = 1, except
            // for x = +inf, where exp(x - x) is NaN (as a max-shifted log_softmax gives).
            sum = sum * exp_of(max - x) + (x == infinity<A>() ? quiet_nan<A>() : A(1));
            max = x;
        } else if (x != -infinity<A>()) {
            // NaN lands here too and makes the sum NaN.
            sum += exp_of(x - max);
        }
    }

    __host__ __device__ __forceinline__ void merge(A other_max, A other_sum) {
        const A m = other_max > max ? other_max : max;
        // A part with sum 0 holds no terms (its max is -inf, and exp(-inf - -inf) would be
        // NaN); any other sum is at least 1, or NaN, which must carry over.
        const A mine = sum == A(0) ? A(0) : sum * exp_of(max - m);
        const A theirs = other_sum == A(0) ? A(0) : other_sum * exp_of(other_max - m);
        max = m;
        sum = mine + theirs;
    }

    __host__ __device__ __forceinline__ A value() const { return max + log_of(sum); }
};

// ----------------------------------------------------------------------------- group reductions

// The threads that share a row: a warp (warp_per_row) or the whole block. Every thread of a
// group runs the same rows, so the reductions below are reached by all of them together.
struct RowGroup {
    bool block;       // the group is the whole block (else a warp)
    int lane;         // this thread's index in the group
    int size;         // threads in the group
    int64_t first;    // the group's first row
    int64_t step;     // rows between the group's successive rows
};

__device__ __forceinline__ RowGroup row_group(int32_t warp_per_row) {
    RowGroup g;
    if (warp_per_row != 0) {
        const int warps = static_cast<int>(blockDim.x >> 5);
        g.block = false;
        g.lane = static_cast<int>(threadIdx.x & 31);
        g.size = 32;
        g.first = static_cast<int64_t>(blockIdx.x) * warps + (threadIdx.x >> 5);
        g.step = static_cast<int64_t>(gridDim.x) * warps;
    } else {
        g.block = true;
        g.lane = static_cast<int>(threadIdx.x);
        g.size = static_cast<int>(blockDim.x);
        g.first = blockIdx.x;
        g.step = gridDim.x;
    }
    return g;
}

// Butterfly sum over a warp: every lane ends with the same, fixed-order total.
template <typename A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
    for (int width = 16; width > 0; width /= 2) v += __shfl_xor_sync(kFullMask, v, width);
    return v;
}

// Sum over the group; every thread of the group gets the total. shared: 32 A's.
template <typename A>
__device__ __forceinline__ A group_sum(const RowGroup& g, A v, A* shared) {
    v = warp_sum(v);
    if (!g.block) return v;
    const int warp = static_cast<int>(threadIdx.x >> 5);
    const int warps = static_cast<int>(blockDim.x >> 5);
    __syncthreads();  // the previous reduction's readers are done with `shared`
    if ((threadIdx.x & 31) == 0) shared[warp] = v;
    __syncthreads();
    A t = static_cast<int>(threadIdx.x & 31) < warps ? shared[threadIdx.x & 31] : A(0);
    return warp_sum(t);
}

// Log-sum-exp over the group; every thread gets the result. shared: 64 A's.
template <typename A>
__device__ __forceinline__ LogSumExp<A> group_lse(const RowGroup& g, LogSumExp<A> s, A* shared) {
#pragma unroll
    for (int width = 16; width > 0; width /= 2) {
        const A other_max = __shfl_xor_sync(kFullMask, s.max, width);
        const A other_sum = __shfl_xor_sync(kFullMask, s.sum, width);
        s.merge(other_max, other_sum);
    }
    if (!g.block) return s;
    const int warp = static_cast<int>(threadIdx.x >> 5);
    const int warps = static_cast<int>(blockDim.x >> 5);
    const int lane = static_cast<int>(threadIdx.x & 31);
    __syncthreads();
    if (lane == 0) {
        shared[warp] = s.max;
        shared[32 + warp] = s.sum;
    }
    __syncthreads();
    LogSumExp<A> t{-infinity<A>(), A(0)};
    if (lane < warps) {
        t.max = shared[lane];
        t.sum = shared[32 + lane];
    }
#pragma unroll
    for (int width = 16; width > 0; width /= 2) {
        const A other_max = __shfl_xor_sync(kFullMask, t.max, width);
        const A other_sum = __shfl_xor_sync(kFullMask, t.sum, width);
        t.merge(other_max, other_sum);
    }
    return t;
}

// log(sum(exp(x))) of one row, over the group.
template <typename T, typename A>
__device__ __forceinline__ A row_lse(const RowGroup& g, const T* __restrict__ x, int64_t classes, A* shared) {
    LogSumExp<A> s{-infinity<A>(), A(0)};
    for (int64_t c = g.lane; c < classes; c += g.size) s.add(static_cast<A>(load_as_compute(x[c])));
    return group_lse(g, s, shared).value();
}

template <typename T, typename A>
__device__ __forceinline__ A class_weight(const T* __restrict__ weight, int64_t c) {
    return weight != nullptr ? static_cast<A>(load_as_compute(weight[c])) : A(1);
}

// g_r of the backward: the incoming gradient of row r's loss.
template <typename T, typename A>
__device__ __forceinline__ A row_grad(const T* __restrict__ dloss, const A* __restrict__ total_weight,
                                      int32_t reduction, int64_t row) {
    if (reduction == kNone) return static_cast<A>(load_as_compute(dloss[row]));
    const A g = static_cast<A>(load_as_compute(dloss[0]));
    return reduction == kMean ? g / total_weight[0] : g;
}

// ----------------------------------------------------------------------------- cross-entropy

template <typename T>
__device__ __forceinline__ void cross_entropy_forward(const T* __restrict__ logits, const int64_t* __restrict__ target,
                                                      const T* __restrict__ weight, int64_t rows, int64_t classes,
                                                      int64_t ignore_index, double label_smoothing, T* __restrict__ out,
                                                      accumulate_t<T>* __restrict__ row_loss,
                                                      accumulate_t<T>* __restrict__ row_weight,
                                                      accumulate_t<T>* __restrict__ lse_out, EmberIndexError* error,
                                                      int32_t warp_per_row, accumulate_t<T>* shared) {
    using A = accumulate_t<T>;
    const RowGroup g = row_group(warp_per_row);
    const bool smooth = label_smoothing > 0.0;
    const A keep = static_cast<A>(1.0 - label_smoothing);
    const A spread = static_cast<A>(label_smoothing / static_cast<double>(classes));
    for (int64_t row = g.first; row < rows; row += g.step) {
        const T* __restrict__ x = logits + row * classes;
        const A lse = row_lse<T, A>(g, x, classes, shared);
        const int64_t t = target[row];
        const bool ignored = t == ignore_index;
        const bool bad = !ignored && (t < 0 || t >= classes);
        // The same for the whole group (one row, one target), so every thread of the group
        // takes this branch together and reaches group_sum.
        A uniform = 0;
        if (smooth && !ignored && !bad) {
            A part = 0;
            for (int64_t c = g.lane; c < classes; c += g.size) {
                part += (static_cast<A>(load_as_compute(x[c])) - lse) * class_weight<T, A>(weight, c);
            }
            uniform = -group_sum(g, part, shared);
        }
        if (g.lane == 0) {
            A loss = 0, w = 0;
            if (bad) {
                report_bad_index(error, row);
            } else if (!ignored) {
                w = class_weight<T, A>(weight, t);
                loss = -(static_cast<A>(load_as_compute(x[t])) - lse) * w;
                if (smooth) loss = loss * keep + uniform * spread;
            }
            if (out != nullptr) out[row] = store_from<T>(static_cast<compute_t<T>>(loss));
            if (row_loss != nullptr) row_loss[row] = loss;
            if (row_weight != nullptr) row_weight[row] = w;
            if (lse_out != nullptr) lse_out[row] = lse;
        }
    }
}

template <typename T>
__device__ __forceinline__ void cross_entropy_backward(T* __restrict__ dlogits, const T* __restrict__ logits,
                                                       const int64_t* __restrict__ target, const T* __restrict__ weight,
                                                       const accumulate_t<T>* __restrict__ lse_in,
                                                       const T* __restrict__ dloss,
                                                       const accumulate_t<T>* __restrict__ total_weight,
                                                       int32_t reduction, int64_t rows, int64_t classes,
                                                       int64_t ignore_index, double label_smoothing,
                                                       EmberIndexError* error, int32_t warp_per_row,
                                                       accumulate_t<T>* shared) {
    using A = accumulate_t<T>;
    const RowGroup g = row_group(warp_per_row);
    const bool smooth = label_smoothing > 0.0;
    const A keep = static_cast<A>(1.0 - label_smoothing);
    const A spread = static_cast<A>(label_smoothing / static_cast<double>(classes));
    // sum_c w_c, needed only with smoothing; the same for every row. Every thread of the
    // block reaches this (rows are not yet split), so the block-wide reduction is safe.
    A weight_sum = static_cast<A>(classes);
    if (smooth && weight != nullptr) {
        A part = 0;
        for (int64_t c = g.lane; c < classes; c += g.size) part += class_weight<T, A>(weight, c);
        weight_sum = group_sum(g, part, shared);
    }
    for (int64_t row = g.first; row < rows; row += g.step) {
        const T* __restrict__ x = logits + row * classes;
        T* __restrict__ dx = dlogits + row * classes;
        const int64_t t = target[row];
        const bool ignored = t == ignore_index;
        const bool bad = !ignored && (t < 0 || t >= classes);
        if (ignored || bad) {  // the same for the whole group
            if (bad && g.lane == 0) report_bad_index(error, row);
            for (int64_t c = g.lane; c < classes; c += g.size) dx[c] = store_from<T>(compute_t<T>(0));
            continue;
        }
        const A lse = lse_in != nullptr ? lse_in[row] : row_lse<T, A>(g, x, classes, shared);
        const A grad = row_grad<T, A>(dloss, total_weight, reduction, row);
        const A wt = class_weight<T, A>(weight, t);
        const A hit = smooth ? keep * wt : wt;
        const A scale = smooth ? hit + spread * weight_sum : wt;
        for (int64_t c = g.lane; c < classes; c += g.size) {
            const A p = exp_of(static_cast<A>(load_as_compute(x[c])) - lse);
            A d = p * scale;
            if (c == t) d -= hit;
            if (smooth) d -= spread * class_weight<T, A>(weight, c);
            dx[c] = store_from<T>(static_cast<compute_t<T>>(grad * d));
        }
    }
}

// ----------------------------------------------------------------------------- nll

template <typename T>
__device__ __forceinline__ void nll_forward(const T* __restrict__ logp, const int64_t* __restrict__ target,
                                            const T* __restrict__ weight, int64_t rows, int64_t classes,
                                            int64_t ignore_index, T* __restrict__ out,
                                            accumulate_t<T>* __restrict__ row_loss,
                                            accumulate_t<T>* __restrict__ row_weight, EmberIndexError* error) {
    using A = accumulate_t<T>;
    for (int64_t row = global_thread_index(); row < rows; row += grid_stride()) {
        const int64_t t = target[row];
        A loss = 0, w = 0;
        if (t != ignore_index) {
            if (t < 0 || t >= classes) {
                report_bad_index(error, row);
            } else {
                w = class_weight<T, A>(weight, t);
                loss = -static_cast<A>(load_as_compute(logp[row * classes + t])) * w;
            }
        }
        if (out != nullptr) out[row] = store_from<T>(static_cast<compute_t<T>>(loss));
        if (row_loss != nullptr) row_loss[row] = loss;
        if (row_weight != nullptr) row_weight[row] = w;
    }
}

template <typename T>
__device__ __forceinline__ void nll_backward(T* __restrict__ dlogp, const int64_t* __restrict__ target,
                                             const T* __restrict__ weight, const T* __restrict__ dloss,
                                             const accumulate_t<T>* __restrict__ total_weight, int32_t reduction,
                                             int64_t rows, int64_t classes, int64_t ignore_index,
                                             EmberIndexError* error) {
    using A = accumulate_t<T>;
    const int64_t total = rows * classes;
    for (int64_t e = global_thread_index(); e < total; e += grid_stride()) {
        const int64_t row = e / classes;
        const int64_t c = e - row * classes;
        const int64_t t = target[row];
        A d = 0;
        if (t != ignore_index) {
            if (t < 0 || t >= classes) {
                if (c == 0) report_bad_index(error, row);
            } else if (c == t) {
                d = -(class_weight<T, A>(weight, t) * row_grad<T, A>(dloss, total_weight, reduction, row));
            }
        }
        dlogp[e] = store_from<T>(static_cast<compute_t<T>>(d));
    }
}

// ----------------------------------------------------------------------------- final reduction

template <typename T>
__device__ __forceinline__ void reduce(T* out, accumulate_t<T>* total_weight, const accumulate_t<T>* __restrict__ row_loss,
                                       const accumulate_t<T>* __restrict__ row_weight, int64_t rows, int32_t reduction,
                                       accumulate_t<T>* shared) {
    using A = accumulate_t<T>;
    const RowGroup block{true, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), 0, 1};
    const bool weights = reduction == kMean || total_weight != nullptr;
    A loss = 0, w = 0;
    for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
        loss += row_loss[r];
        if (weights) w += row_weight[r];
    }
    loss = group_sum(block, loss, shared);
    if (weights) w = group_sum(block, w, shared);
    if (threadIdx.x == 0) {
        if (out != nullptr) out[0] = store_from<T>(static_cast<compute_t<T>>(reduction == kMean ? loss / w : loss));
        if (total_weight != nullptr) total_weight[0] = w;
    }
}

}  // namespace ember::loss

// ----------------------------------------------------------------------------- entry points

// Static shared memory of the block reductions: 64 accumulators (512 bytes for double).
#define EMBER_LOSS_KERNELS(SUFFIX, T)                                                                              \
    extern "C" __global__ void ember_loss_cross_entropy_fwd_##SUFFIX(                                             \
        const T* logits, const int64_t* target, const T* weight, int64_t rows, int64_t classes,                   \
        int64_t ignore_index, double label_smoothing, T* out, ember::accumulate_t<T>* row_loss,                    \
        ember::accumulate_t<T>* row_weight, ember::accumulate_t<T>* lse, EmberIndexError* error,                   \
        int32_t warp_per_row) {                                                                                    \
        __shared__ ember::accumulate_t<T> shared[64];                                                              \
        ember::loss::cross_entropy_forward(logits, target, weight, rows, classes, ignore_index, label_smoothing,   \
                                           out, row_loss, row_weight, lse, error, warp_per_row, shared);           \
    }                                                                                                              \
    extern "C" __global__ void ember_loss_cross_entropy_bwd_##SUFFIX(                                             \
        T* dlogits, const T* logits, const int64_t* target, const T* weight, const ember::accumulate_t<T>* lse,   \
        const T* dloss, const ember::accumulate_t<T>* total_weight, int32_t reduction, int64_t rows,               \
        int64_t classes, int64_t ignore_index, double label_smoothing, EmberIndexError* error,                     \
        int32_t warp_per_row) {                                                                                    \
        __shared__ ember::accumulate_t<T> shared[64];                                                              \
        ember::loss::cross_entropy_backward(dlogits, logits, target, weight, lse, dloss, total_weight, reduction,  \
                                            rows, classes, ignore_index, label_smoothing, error, warp_per_row,     \
                                            shared);                                                               \
    }                                                                                                              \
    extern "C" __global__ void ember_loss_nll_fwd_##SUFFIX(                                                       \
        const T* logp, const int64_t* target, const T* weight, int64_t rows, int64_t classes,                     \
        int64_t ignore_index, T* out, ember::accumulate_t<T>* row_loss, ember::accumulate_t<T>* row_weight,        \
        EmberIndexError* error) {                                                                                  \
        ember::loss::nll_forward(logp, target, weight, rows, classes, ignore_index, out, row_loss, row_weight,     \
                                 error);                                                                           \
    }                                                                                                              \
    extern "C" __global__ void ember_loss_nll_bwd_##SUFFIX(                                                       \
        T* dlogp, const int64_t* target, const T* weight, const T* dloss,                                         \
        const ember::accumulate_t<T>* total_weight, int32_t reduction, int64_t rows, int64_t classes,              \
        int64_t ignore_index, EmberIndexError* error) {                                                            \
        ember::loss::nll_backward(dlogp, target, weight, dloss, total_weight, reduction, rows, classes,            \
                                  ignore_index, error);                                                            \
    }                                                                                                              \
    extern "C" __global__ void ember_loss_reduce_##SUFFIX(T* out, ember::accumulate_t<T>* total_weight,           \
                                                          const ember::accumulate_t<T>* row_loss,                  \
                                                          const ember::accumulate_t<T>* row_weight, int64_t rows,  \
                                                          int32_t reduction) {                                     \
        __shared__ ember::accumulate_t<T> shared[64];                                                              \
        ember::loss::reduce(out, total_weight, row_loss, row_weight, rows, reduction, shared);                     \
    }

EMBER_FOR_EACH_FLOATING(EMBER_LOSS_KERNELS)

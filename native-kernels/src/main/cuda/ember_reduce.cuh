// Helpers shared by reduce.cu (reductions, cumsum/cumprod) and softmax.cu: how a line of
// [outer, r, inner] is split among threads, warp and block reductions with a fixed combine
// order, and the accumulate-type arithmetic the reductions share. Inline code only; every
// entry point and its launch rules are documented at the top of the .cu file that defines it.
//
// Determinism: every reduction here combines values in an order that depends only on the
// sizes (and the split count), never on the grid or on timing; 16-byte vector loads, used
// where the address allows, feed the same accumulation order as element-wise loads.
// Butterfly (xor) shuffles always combine the lower lane's value on the left, and
// shared-memory trees always pair slot i with slot i + stride, so a non-commutative combine
// (Welford's merge) is still reproduced bit for bit.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ember_common.cuh"
#include "ember_dtypes.cuh"

namespace ember::red {

// Every reduce, scan and softmax entry point runs with blocks of exactly this many threads.
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__device__ __forceinline__ int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The smallest power of two >= v (1 for v <= 1).
__device__ __forceinline__ int64_t next_pow2(int64_t v) {
    int64_t p = 1;
    while (p < v) p <<= 1;
    return p;
}

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

template <typename T>
constexpr bool is_floating_v = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                               std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// A stored element as its accumulate type: float for f32/f16/bf16, double for f64, int64 for
// integers and bool (a bool byte reads as 0 or 1).
template <typename T>
__device__ __forceinline__ accumulate_t<T> to_acc(T v) {
    if constexpr (is_floating_v<T>) {
        return static_cast<accumulate_t<T>>(load_as_compute<T>(v));
    } else {
        return static_cast<int64_t>(v);
    }
}

// Integer arithmetic that wraps as int64 does in Java (two's complement), without the
// undefined behaviour of signed overflow in C++.
__device__ __forceinline__ int64_t wrap_add(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
__device__ __forceinline__ int64_t wrap_mul(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// Math in the accumulate type, spelled once for float and double (accurate versions: no
// fast-math intrinsics, results are compared with a float64 reference).
__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float m_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double m_abs(double x) { return fabs(x); }
__device__ __forceinline__ float m_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double m_pow(double x, double y) { return pow(x, y); }

template <typename A> __device__ __forceinline__ A m_inf() {
    if constexpr (std::is_same_v<A, float>) return __int_as_float(0x7f800000);
    else return __longlong_as_double(0x7ff0000000000000LL);
}
template <typename A> __device__ __forceinline__ A m_nan() {
    if constexpr (std::is_same_v<A, float>) return __int_as_float(0x7fc00000);
    else return __longlong_as_double(0x7ff8000000000000LL);
}

// Java's Math.max/min: a NaN operand wins (the first one if both are NaN); otherwise the
// larger (smaller), with +0.0 above -0.0.
template <typename A> __device__ __forceinline__ A nan_max(A a, A b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return (a == A(0) && signbit(a)) ? b : a;
    return a > b ? a : b;
}
template <typename A> __device__ __forceinline__ A nan_min(A a, A b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == b) return (a == A(0) && signbit(b)) ? b : a;
    return a < b ? a : b;
}

// ---------------------------------------------------------------- shuffles of any state

// A state of any trivially copyable type moved across lanes as 32-bit words. Every lane of
// the warp must call these together (full mask).
template <typename S> __device__ __forceinline__ S shfl_xor(S v, int mask) {
    static_assert(sizeof(S) % 4 == 0, "states are whole 32-bit words");
    constexpr int W = sizeof(S) / 4;
    uint32_t w[W];
    memcpy(w, &v, sizeof(S));
#pragma unroll
    for (int i = 0; i < W; ++i) w[i] = __shfl_xor_sync(0xffffffffu, w[i], mask);
    memcpy(&v, w, sizeof(S));
    return v;
}

template <typename S> __device__ __forceinline__ S shfl_up(S v, int delta) {
    static_assert(sizeof(S) % 4 == 0, "states are whole 32-bit words");
    constexpr int W = sizeof(S) / 4;
    uint32_t w[W];
    memcpy(w, &v, sizeof(S));
#pragma unroll
    for (int i = 0; i < W; ++i) w[i] = __shfl_up_sync(0xffffffffu, w[i], delta);
    memcpy(&v, w, sizeof(S));
    return v;
}

template <typename S> __device__ __forceinline__ S shfl_idx(S v, int lane) {
    static_assert(sizeof(S) % 4 == 0, "states are whole 32-bit words");
    constexpr int W = sizeof(S) / 4;
    uint32_t w[W];
    memcpy(w, &v, sizeof(S));
#pragma unroll
    for (int i = 0; i < W; ++i) w[i] = __shfl_sync(0xffffffffu, w[i], lane);
    memcpy(&v, w, sizeof(S));
    return v;
}

// Combines the values of aligned groups of `width` lanes (a power of two <= 32) with a
// butterfly; the lower lane's value is always the left operand. Every lane ends with its
// group's result. All 32 lanes must call it with the same width.
template <class Op, typename S>
__device__ __forceinline__ S group_reduce(const Op& op, S v, int width) {
    const int lane = threadIdx.x & 31;
    for (int off = width >> 1; off > 0; off >>= 1) {
        const S other = shfl_xor(v, off);
        v = (lane & off) ? op.combine(other, v) : op.combine(v, other);
    }
    return v;
}

// Combines one value per thread of the block (kThreads threads) in a fixed tree: a butterfly
// within each warp, then warp 0 combines the kWarps warp results the same way. The result is
// valid in thread 0 only. `scratch` holds at least kWarps states; the caller must
// __syncthreads() before writing it again.
template <class Op, typename S>
__device__ __forceinline__ S block_reduce(const Op& op, S v, S* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = group_reduce(op, v, 32);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < kWarps ? scratch[lane] : op.identity();
        v = group_reduce(op, v, kWarps);
    }
    return v;
}

// block_reduce with the result handed to every thread. `scratch` holds kWarps + 1 states;
// this returns after a barrier, so the caller may reuse scratch right away.
template <class Op, typename S>
__device__ __forceinline__ S block_reduce_all(const Op& op, S v, S* scratch) {
    v = block_reduce(op, v, scratch);
    if (threadIdx.x == 0) scratch[kWarps] = v;
    __syncthreads();
    v = scratch[kWarps];
    __syncthreads();
    return v;
}

// ---------------------------------------------------------------- how threads cover [outer, r, inner]

// The "tile" shape used for lines that one block covers side by side: by threads along r
// (the team of one output) times bx = kThreads / by outputs. For inner == 1 the team is a
// group of by lanes within one warp (by <= 32, about 8 elements per lane), so lanes read
// consecutive elements of a row; for inner > 1 the bx outputs are consecutive (o, i)
// positions and lanes read consecutive i.
__device__ __forceinline__ int tile_team(int64_t r, int64_t inner) {
    if (inner == 1) return static_cast<int>(min64(32, next_pow2(ceil_div(r, 8))));
    const int64_t bx = min64(kThreads, next_pow2(inner));
    return static_cast<int>(min64(kThreads / bx, next_pow2(r)));
}

// 16 bytes of consecutive elements of global memory (read-only for the kernel's lifetime),
// as one vector load when `aligned` (the address is a multiple of 16), otherwise element by
// element. Either way v[] gets the same values.
template <typename T, int V>
__device__ __forceinline__ void load_chunk(T (&v)[V], const T* __restrict__ p, bool aligned) {
    static_assert(V * sizeof(T) == 16, "a chunk is 16 bytes");
    if (aligned) {
        const uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
        memcpy(v, &raw, 16);
    } else {
#pragma unroll
        for (int j = 0; j < V; ++j) v[j] = p[j];
    }
}

// The same from 16-byte aligned shared memory (a plain load: __ldg is for global memory only).
template <typename T, int V>
__device__ __forceinline__ void load_chunk_shared(T (&v)[V], const T* p) {
    static_assert(V * sizeof(T) == 16, "a chunk is 16 bytes");
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    memcpy(v, &raw, 16);
}

template <typename T, int V>
__device__ __forceinline__ void store_chunk(T* __restrict__ p, const T (&v)[V], bool aligned) {
    static_assert(V * sizeof(T) == 16, "a chunk is 16 bytes");
    if (aligned) {
        uint4 raw;
        memcpy(&raw, v, 16);
        *reinterpret_cast<uint4*>(p) = raw;
    } else {
#pragma unroll
        for (int j = 0; j < V; ++j) p[j] = v[j];
    }
}

__device__ __forceinline__ bool aligned16(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15) == 0;
}

}  // namespace ember::red

namespace ember::red {

// ---------------------------------------------------------------- logsumexp's running state

// (m, s) stands for log(s) + m: m is the largest element seen (NaN once any NaN was seen), s
// the sum of exp(x - m). Elements equal to -inf add nothing. When m is +inf, s is
// meaningless: the result is +inf, or NaN for softmax; the readers below check m first.
template <typename A> struct LseState {
    A m;
    A s;
};

template <typename A> __device__ __forceinline__ LseState<A> lse_identity() {
    return LseState<A>{-m_inf<A>(), A(0)};
}

template <typename A> __device__ __forceinline__ void lse_push(LseState<A>& st, A x) {
    if (x > st.m) {
        // m = -inf: s is 0 and exp(-inf) is 0, so s becomes 1.
        st.s = st.s * m_exp(st.m - x) + A(1);
        st.m = x;
    } else if (x <= st.m) {
        if (st.m > -m_inf<A>()) st.s += m_exp(x - st.m);
    } else {
        st.m = m_nan<A>();  // x or m is NaN
    }
}

template <typename A> __device__ __forceinline__ LseState<A> lse_combine(LseState<A> a, LseState<A> b) {
    if (a.m != a.m || b.m != b.m) return LseState<A>{m_nan<A>(), A(0)};
    const A m = a.m > b.m ? a.m : b.m;
    if (m == m_inf<A>() || m == -m_inf<A>()) return LseState<A>{m, A(0)};
    // a.m or b.m may be -inf (with s = 0): exp(-inf) = 0.
    return LseState<A>{m, a.s * m_exp(a.m - m) + b.s * m_exp(b.m - m)};
}

}  // namespace ember::red

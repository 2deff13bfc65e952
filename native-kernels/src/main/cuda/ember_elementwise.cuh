// The machinery shared by the elementwise kernel files (elementwise*.cu): the launch layout
// EmberLayout4, the dtype traits the kernels read and write through, Java-exact scalar
// helpers, and the one loop every elementwise, ternary and cast kernel runs. The ABI and the
// semantics are documented at the top of elementwise.cu; this header holds no entry points.
#pragma once

#include "ember_common.cuh"

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define EMBER_EW_MAX_DIMS 8
#define EMBER_EW_MAX_OPERANDS 4

// The broadcast iteration of one launch, passed by value (328 bytes, 8-byte aligned).
struct EmberLayout4 {
    int64_t sizes[EMBER_EW_MAX_DIMS];                          // offset   0
    int64_t strides[EMBER_EW_MAX_OPERANDS][EMBER_EW_MAX_DIMS];  // offset  64 + 64 * operand
    int32_t ndim;                                               // offset 320
    int32_t flags;                                              // offset 324
};

// The host builds this struct byte by byte; these pin the layout documented in elementwise.cu.
static_assert(sizeof(EmberLayout4) == 328, "EmberLayout4 must be 328 bytes");
static_assert(alignof(EmberLayout4) == 8, "EmberLayout4 must be 8-byte aligned");
static_assert(offsetof(EmberLayout4, sizes) == 0, "sizes at 0");
static_assert(offsetof(EmberLayout4, strides) == 64, "strides at 64");
static_assert(offsetof(EmberLayout4, ndim) == 320, "ndim at 320");
static_assert(offsetof(EmberLayout4, flags) == 324, "flags at 324");

// flags bit 0: every operand is contiguous row-major with the broadcast shape.
#define EMBER_EW_CONTIGUOUS 1

namespace ember::ew {

// ---------------------------------------------------------------- dtypes
//
// R: the raw storage word (16-bit floats are moved as uint16_t bits, bool as a uint8_t byte);
// C: the type the element computes in (float for the 16-bit floats, int64_t for every integer
// and bool, as the CPU path's long arithmetic); load: raw word to C; store: C to raw word.
// Integer stores truncate (wrap) as Java's (int)/(byte) casts; bool stores are "not zero" and
// bool loads read any non-zero byte as 1.

struct dt_f32 {
    using R = float;
    using C = float;
    static constexpr bool floating = true;
    __device__ static __forceinline__ C load(R r) { return r; }
    __device__ static __forceinline__ R store(C v) { return v; }
};
struct dt_f64 {
    using R = double;
    using C = double;
    static constexpr bool floating = true;
    __device__ static __forceinline__ C load(R r) { return r; }
    __device__ static __forceinline__ R store(C v) { return v; }
};
struct dt_f16 {
    using R = uint16_t;
    using C = float;
    static constexpr bool floating = true;
    __device__ static __forceinline__ C load(R r) { return __half2float(__ushort_as_half(r)); }
    __device__ static __forceinline__ R store(C v) { return __half_as_ushort(__float2half_rn(v)); }
};
struct dt_bf16 {
    using R = uint16_t;
    using C = float;
    static constexpr bool floating = true;
    __device__ static __forceinline__ C load(R r) { return __bfloat162float(__ushort_as_bfloat16(r)); }
    __device__ static __forceinline__ R store(C v) { return __bfloat16_as_ushort(__float2bfloat16_rn(v)); }
};
struct dt_i32 {
    using R = int32_t;
    using C = int64_t;
    static constexpr bool floating = false;
    __device__ static __forceinline__ C load(R r) { return r; }
    __device__ static __forceinline__ R store(C v) { return static_cast<R>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }
};
struct dt_i64 {
    using R = int64_t;
    using C = int64_t;
    static constexpr bool floating = false;
    __device__ static __forceinline__ C load(R r) { return r; }
    __device__ static __forceinline__ R store(C v) { return v; }
};
struct dt_u8 {
    using R = uint8_t;
    using C = int64_t;
    static constexpr bool floating = false;
    __device__ static __forceinline__ C load(R r) { return r; }
    __device__ static __forceinline__ R store(C v) { return static_cast<R>(static_cast<uint64_t>(v)); }
};
struct dt_b8 {
    using R = uint8_t;
    using C = int64_t;
    static constexpr bool floating = false;
    __device__ static __forceinline__ C load(R r) { return r != 0 ? 1 : 0; }
    __device__ static __forceinline__ R store(C v) { return v != 0 ? 1 : 0; }
};

// ---------------------------------------------------------------- Java-exact scalar helpers

// Java's (long) cast of a double: NaN is 0, out-of-range values saturate.
__device__ __forceinline__ int64_t java_d2l(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;  // the literal is 2^63 as a double
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return static_cast<int64_t>(v);
}

// Two's-complement wrapping arithmetic on int64 (Java long semantics, no signed overflow UB).
__device__ __forceinline__ int64_t wrap_add(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
__device__ __forceinline__ int64_t wrap_sub(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
__device__ __forceinline__ int64_t wrap_mul(int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}
__device__ __forceinline__ int64_t wrap_neg(int64_t a) { return wrap_sub(0, a); }

// Float helpers, overloaded for float and double so an op's math is written once.
#define EMBER_EW_MATH1(NAME, F, D)                                            \
    __device__ __forceinline__ float NAME(float x) { return F(x); }          \
    __device__ __forceinline__ double NAME(double x) { return D(x); }
#define EMBER_EW_MATH2(NAME, F, D)                                                   \
    __device__ __forceinline__ float NAME(float x, float y) { return F(x, y); }     \
    __device__ __forceinline__ double NAME(double x, double y) { return D(x, y); }
namespace fm {
EMBER_EW_MATH1(exp, ::expf, ::exp)
EMBER_EW_MATH1(log, ::logf, ::log)
EMBER_EW_MATH1(log1p, ::log1pf, ::log1p)
EMBER_EW_MATH1(expm1, ::expm1f, ::expm1)
EMBER_EW_MATH1(sqrt, ::sqrtf, ::sqrt)
EMBER_EW_MATH1(sin, ::sinf, ::sin)
EMBER_EW_MATH1(cos, ::cosf, ::cos)
EMBER_EW_MATH1(tanh, ::tanhf, ::tanh)
EMBER_EW_MATH1(erfc, ::erfcf, ::erfc)
EMBER_EW_MATH1(floor, ::floorf, ::floor)
EMBER_EW_MATH1(ceil, ::ceilf, ::ceil)
EMBER_EW_MATH1(rint, ::rintf, ::rint)  // round half to even
EMBER_EW_MATH1(fabs, ::fabsf, ::fabs)
EMBER_EW_MATH2(fmod, ::fmodf, ::fmod)  // exact, sign of the dividend, as Java's %
EMBER_EW_MATH2(pow_c, ::powf, ::pow)
EMBER_EW_MATH2(copysign, ::copysignf, ::copysign)
// Products and sums with exactly one rounding each, never fused into an fma by the compiler.
EMBER_EW_MATH2(mul_rn, __fmul_rn, __dmul_rn)
EMBER_EW_MATH2(add_rn, __fadd_rn, __dadd_rn)
EMBER_EW_MATH2(sub_rn, __fsub_rn, __dsub_rn)
EMBER_EW_MATH2(div_rn, __fdiv_rn, __ddiv_rn)
__device__ __forceinline__ float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }

template <class C> __device__ __forceinline__ bool isnan(C x) { return x != x; }
template <class C> __device__ __forceinline__ bool isinf(C x) { return fabs(x) == C(INFINITY); }
template <class C> __device__ __forceinline__ bool signbit(C x) { return copysign(C(1), x) < C(0); }

// Java's Math.max/Math.min: NaN if either is NaN, and -0.0 below +0.0.
template <class C> __device__ __forceinline__ C java_max(C a, C b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == C(0) && b == C(0)) return signbit(a) ? b : a;
    return a >= b ? a : b;
}
template <class C> __device__ __forceinline__ C java_min(C a, C b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == C(0) && b == C(0)) return signbit(a) ? a : b;
    return a <= b ? a : b;
}

// Java's Math.pow: as C's pow except that a NaN exponent always gives NaN and
// (+-1) ^ (+-inf) is NaN (C gives 1 for both).
template <class C> __device__ __forceinline__ C java_pow(C x, C y) {
    if (y != y) return y;
    if (isinf(y) && fabs(x) == C(1)) return C(NAN);
    return pow_c(x, y);
}
}  // namespace fm
#undef EMBER_EW_MATH1
#undef EMBER_EW_MATH2

// ---------------------------------------------------------------- the loop

// N raw words, 16-byte aligned, so a load or store of it is whole 128-bit accesses.
template <class R, int N> struct alignas(16) Pack {
    R v[N];
};

template <class D> __host__ __device__ constexpr int width() { return static_cast<int>(sizeof(typename D::R)); }
__host__ __device__ constexpr int min_width(int a, int b) { return a < b ? a : b; }

// a / b and a % b for non-negative a, b > 0, in 32 bits when both fit (a 64-bit division is
// several times longer on the GPU).
__device__ __forceinline__ void divmod(int64_t a, int64_t b, int64_t& q, int64_t& r) {
    if (((static_cast<uint64_t>(a) | static_cast<uint64_t>(b)) >> 32) == 0) {
        const uint32_t a32 = static_cast<uint32_t>(a), b32 = static_cast<uint32_t>(b);
        const uint32_t q32 = a32 / b32;
        q = q32;
        r = a32 - q32 * b32;
    } else {
        q = a / b;
        r = a - q * b;
    }
}

// out[i] = fn(a[i] [, b[i] [, c[i]]]) over the broadcast shape of L, for NIN = 1, 2 or 3
// inputs. OD, AD, BD, CD are the dtypes of the output and the inputs (BD, CD unused below
// NIN); fn takes the inputs' compute values and returns something convertible to OD::C.
//
// Three paths, chosen uniformly for the launch:
//   * flags bit 0 and every pointer 16-byte aligned: chunks of VEC elements (VEC = 16 / the
//     narrowest operand's width, so every operand moves as whole 128-bit words), one chunk per
//     thread per grid-stride step, then the last numel % VEC elements one by one;
//   * flags bit 0 otherwise: flat index, one element per step;
//   * strided/broadcast: each thread turns its first index and the grid stride into
//     coordinates once (divisions), then steps with additions and a carry, as strided_copy.
template <int NIN, class OD, class AD, class BD, class CD, class Fn>
__device__ __forceinline__ void run(void* out_v, const void* a_v, const void* b_v, const void* c_v,
                                    const EmberLayout4& L, const Fn& fn) {
    using OR = typename OD::R;
    using AR = typename AD::R;
    using BR = typename BD::R;
    using CR = typename CD::R;
    // No __restrict__: an output may be exactly one of the inputs (in-place ops).
    OR* out = static_cast<OR*>(out_v);
    const AR* a = static_cast<const AR*>(a_v);
    const BR* b = static_cast<const BR*>(b_v);
    const CR* c = static_cast<const CR*>(c_v);

    const int ndim = L.ndim;
    int64_t numel = 1;
#pragma unroll
    for (int d = 0; d < EMBER_EW_MAX_DIMS; ++d) {
        if (d < ndim) numel *= L.sizes[d];
    }
    const int64_t first = global_thread_index();
    const int64_t step = grid_stride();
    // Also covers numel == 0, so no size below is zero when we divide by it.
    if (first >= numel) return;

    auto apply = [&](int64_t oo, int64_t ao, int64_t bo, int64_t co) {
        if constexpr (NIN == 1) {
            out[oo] = OD::store(static_cast<typename OD::C>(fn(AD::load(a[ao]))));
        } else if constexpr (NIN == 2) {
            out[oo] = OD::store(static_cast<typename OD::C>(fn(AD::load(a[ao]), BD::load(b[bo]))));
        } else {
            out[oo] = OD::store(static_cast<typename OD::C>(fn(AD::load(a[ao]), BD::load(b[bo]), CD::load(c[co]))));
        }
    };

    if (L.flags & EMBER_EW_CONTIGUOUS) {
        constexpr int narrow = min_width(min_width(width<OD>(), width<AD>()),
                                         min_width(NIN >= 2 ? width<BD>() : 8, NIN >= 3 ? width<CD>() : 8));
        constexpr int VEC = 16 / narrow;
        uintptr_t addr = reinterpret_cast<uintptr_t>(out) | reinterpret_cast<uintptr_t>(a);
        if constexpr (NIN >= 2) addr |= reinterpret_cast<uintptr_t>(b);
        if constexpr (NIN >= 3) addr |= reinterpret_cast<uintptr_t>(c);
        int64_t done = 0;
        if ((addr & 15) == 0) {
            const int64_t chunks = numel / VEC;
            for (int64_t k = first; k < chunks; k += step) {
                const int64_t base = k * VEC;
                const Pack<AR, VEC> pa = *reinterpret_cast<const Pack<AR, VEC>*>(a + base);
                Pack<BR, VEC> pb;
                Pack<CR, VEC> pc;
                if constexpr (NIN >= 2) pb = *reinterpret_cast<const Pack<BR, VEC>*>(b + base);
                if constexpr (NIN >= 3) pc = *reinterpret_cast<const Pack<CR, VEC>*>(c + base);
                Pack<OR, VEC> po;
#pragma unroll
                for (int j = 0; j < VEC; ++j) {
                    if constexpr (NIN == 1) {
                        po.v[j] = OD::store(static_cast<typename OD::C>(fn(AD::load(pa.v[j]))));
                    } else if constexpr (NIN == 2) {
                        po.v[j] = OD::store(static_cast<typename OD::C>(fn(AD::load(pa.v[j]), BD::load(pb.v[j]))));
                    } else {
                        po.v[j] = OD::store(static_cast<typename OD::C>(
                                fn(AD::load(pa.v[j]), BD::load(pb.v[j]), CD::load(pc.v[j]))));
                    }
                }
                *reinterpret_cast<Pack<OR, VEC>*>(out + base) = po;
            }
            done = chunks * VEC;
        }
        for (int64_t i = done + first; i < numel; i += step) apply(i, i, i, i);
        return;
    }

    // Strided/broadcast: coordinates of this thread's first element and of the grid stride
    // (innermost dimension last in the arrays, as sizes), and each operand's offset.
    constexpr int K = NIN + 1;
    int64_t coord[EMBER_EW_MAX_DIMS];
    int64_t step_coord[EMBER_EW_MAX_DIMS];
    int64_t off[EMBER_EW_MAX_OPERANDS] = {0, 0, 0, 0};  // entries at K and above stay 0
    // A thread with one element only needs no stride coordinates (saves the divisions).
    const bool more = step < numel - first;
    int64_t rest = first;
    int64_t step_rest = step;
#pragma unroll
    for (int d = EMBER_EW_MAX_DIMS - 1; d >= 0; --d) {
        coord[d] = 0;
        step_coord[d] = 0;
        if (d < ndim) {
            const int64_t size = L.sizes[d];
            int64_t q;
            divmod(rest, size, q, coord[d]);
            rest = q;
            if (more) {
                divmod(step_rest, size, q, step_coord[d]);
                step_rest = q;
            }
#pragma unroll
            for (int k = 0; k < K; ++k) off[k] += coord[d] * L.strides[k][d];
        }
    }

    for (int64_t i = first; i < numel; i += step) {
        apply(off[0], off[1], off[2], off[3]);

        // coord += step_coord, innermost first, carrying into the next dimension out. Each
        // digit is below its size, so digit + step digit + carry wraps at most once. A carry
        // out of the outermost dimension means i + step >= numel: the loop ends before the
        // stale coordinates are used.
        int64_t carry = 0;
#pragma unroll
        for (int d = EMBER_EW_MAX_DIMS - 1; d >= 0; --d) {
            if (d < ndim) {
                const int64_t size = L.sizes[d];
                int64_t next = coord[d] + step_coord[d] + carry;
                carry = next >= size ? 1 : 0;
                if (carry) next -= size;
                const int64_t moved = next - coord[d];
#pragma unroll
                for (int k = 0; k < K; ++k) off[k] += moved * L.strides[k][d];
                coord[d] = next;
            }
        }
    }
}

// The op's functor for dtype D: its float math (Op::fp<C>) for the floating dtypes, its
// integer math (Op::integral, on int64) for the integer dtypes and bool.
template <class Op, class D, bool F = D::floating> struct math_of;
template <class Op, class D> struct math_of<Op, D, true> {
    using type = typename Op::template fp<typename D::C>;
};
template <class Op, class D> struct math_of<Op, D, false> {
    using type = typename Op::integral;
};

}  // namespace ember::ew

// Dtype lists: M(OP, dtype suffix) once per dtype of the list.
#define EMBER_EW_FLOATING(M, OP) M(OP, f32) M(OP, f64) M(OP, f16) M(OP, bf16)
#define EMBER_EW_NUMERIC(M, OP) EMBER_EW_FLOATING(M, OP) M(OP, i32) M(OP, i64) M(OP, u8)
#define EMBER_EW_ALL(M, OP) EMBER_EW_NUMERIC(M, OP) M(OP, b8)

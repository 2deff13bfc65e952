// Elementwise kernels: every unary and binary op declared in UnaryOps/BinaryOps, the ternary
// ops (where, plus addcmul/addcdiv/lerp ahead of their Java declarations) and the 8x8 dtype
// casts, over broadcast, strided operands of every dtype.
//
// ======================================================================== PROVIDES
// One line per op: family, op, then every <dt> with an entry point ember_<family>_<op>_<dt>
// (casts: ember_cast_<from>_<to>). Parse: lines starting "//   PROVIDES ".
//
//   PROVIDES unary neg               f32 f64 f16 bf16 i32 i64 u8
//   PROVIDES unary abs               f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary sign              f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary relu              f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary floor             f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary ceil              f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary round             f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary clamp             f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary pow               f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES unary exp               f32 f64 f16 bf16
//   PROVIDES unary log               f32 f64 f16 bf16
//   PROVIDES unary log1p             f32 f64 f16 bf16
//   PROVIDES unary expm1             f32 f64 f16 bf16
//   PROVIDES unary sqrt              f32 f64 f16 bf16
//   PROVIDES unary rsqrt             f32 f64 f16 bf16
//   PROVIDES unary sin               f32 f64 f16 bf16
//   PROVIDES unary cos               f32 f64 f16 bf16
//   PROVIDES unary tanh              f32 f64 f16 bf16
//   PROVIDES unary sigmoid           f32 f64 f16 bf16
//   PROVIDES unary gelu              f32 f64 f16 bf16
//   PROVIDES unary gelu_tanh         f32 f64 f16 bf16
//   PROVIDES unary silu              f32 f64 f16 bf16
//   PROVIDES unary normal_cdf        f32 f64 f16 bf16
//   PROVIDES unary softplus          f32 f64 f16 bf16
//   PROVIDES unary isnan             f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES unary isfinite          f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES unary logical_not       f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary add              f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary sub              f32 f64 f16 bf16 i32 i64 u8
//   PROVIDES binary mul              f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary div              f32 f64 f16 bf16
//   PROVIDES binary pow              f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary remainder        f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary floor_divide     f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary maximum          f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary minimum          f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary threshold_backward f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES binary eq               f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary ne               f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary lt               f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary le               f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary gt               f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary ge               f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary logical_and      f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES binary logical_or       f32 f64 f16 bf16 i32 i64 u8 b8      (output bool)
//   PROVIDES ternary where           f32 f64 f16 bf16 i32 i64 u8 b8      (a: bool condition)
//   PROVIDES ternary addcmul         f32 f64 f16 bf16
//   PROVIDES ternary addcdiv         f32 f64 f16 bf16
//   PROVIDES ternary lerp            f32 f64 f16 bf16
//   PROVIDES cast f32                f32 f64 f16 bf16 i32 i64 u8 b8      (ember_cast_f32_<to>)
//   PROVIDES cast f64                f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES cast f16                f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES cast bf16               f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES cast i32                f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES cast i64                f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES cast u8                 f32 f64 f16 bf16 i32 i64 u8 b8
//   PROVIDES cast b8                 f32 f64 f16 bf16 i32 i64 u8 b8
//
// Which dtypes an op gets: an op with an integer form in Java (`integral` non-null) has all 8
// (bool computes through the integer form and stores "not zero", as the CPU path's putLong),
// except neg and sub, which Tensor refuses for bool; an op without one (integers are promoted
// to float32 by the host) has the 4 floating dtypes; bool-result ops take all 8 inputs.
//
// Java declarations that share a name, and the one kernel family each maps to:
//   unary "pow"  (UnaryOps.powScalar, integral or not): one family, exponent in p0. The float
//                math is the same; the integer kernels are the integral-exponent form.
//   unary "clamp" (UnaryOps.clamp, integral bounds or not): one family, bounds in p0, p1.
//   binary "add" (BinaryOps.ADD and BinaryOps.addScaled(alpha)): one family; ADD is alpha = 1.
//   binary "threshold_backward" (RELU_BACKWARD and RELU_BACKWARD_OF_GRAD): identical math, one
//                family.
//   unary "pow" and binary "pow" differ in family (ember_unary_pow_* vs ember_binary_pow_*).
//
// ======================================================================== ABI
//
//   ember_unary_<op>_<dt>  (void* out, const void* x, EmberLayout4 L, double p0, double p1)
//   ember_binary_<op>_<dt> (void* out, const void* a, const void* b, EmberLayout4 L, double alpha)
//   ember_ternary_<op>_<dt>(void* out, const void* a, const void* b, const void* c,
//                           EmberLayout4 L, double p0)
//   ember_cast_<from>_<to> (void* out, const void* x, EmberLayout4 L)
//
// <dt> is the computation dtype (suffixes as ember_dtypes.cuh: f32 f64 f16 bf16 i32 i64 u8
// b8): every input arrives already converted to it by the host, except where's condition a,
// which is bool (uint8 0/1; any non-zero byte reads as true). The output's dtype is <dt> for
// every op except those marked "output bool" above, which write bool as uint8 0/1. Casts read
// <from> and write <to>. Pointers point at element 0 of each operand (storage base plus
// storage offset) and are aligned to their element size. float16/bfloat16 are computed in
// float32 and rounded once to nearest even on store; integers and bool compute in int64 (as
// the CPU path's long arithmetic) and wrap into their dtype on store.
//
// EmberLayout4, passed by value (328 bytes, 8-byte aligned; static_asserts in
// ember_elementwise.cuh):
//
//   offset   0  int64 sizes[8]          the broadcast output shape, outermost first
//   offset  64  int64 strides[4][8]     operand k's strides at 64 + 64*k, in elements, any
//                                       sign, 0 = broadcast; operand 0 is the output, 1.. the
//                                       inputs in argument order (unused operands: ignored)
//   offset 320  int32 ndim              0..8; 0 is one element
//   offset 324  int32 flags             bit 0: every operand is contiguous row-major with the
//                                       shape (no broadcast); strides are then not read.
//                                       Other bits must be 0.
//
// Entries at index >= ndim are ignored. The host should merge dimensions that are contiguous
// in every operand and drop size-1 dimensions (less index arithmetic per element). The output
// may be exactly one of the inputs (same pointer and strides: in-place ops); otherwise it must
// not overlap an input, and no two output elements may share memory.
//
// Parameters (ignored by ops that take none):
//   unary clamp      p0 = min, p1 = max; an absent bound is -inf / +inf. Floats: NaN stays NaN,
//                    min(max(x, p0), p1) with Java's Math.max/min (so min > max gives max).
//                    Integers: bounds (long) ceil(p0), (long) floor(p1), saturating.
//   unary pow        p0 = exponent. Floats: Java's Math.pow(x, p0) (x*x when p0 == 2).
//                    Integers: exponent (long) p0, exact wrapping power by squaring.
//   unary softplus   p0 = beta, p1 = threshold: x*beta > threshold ? x : log1p(exp(x*beta))/beta.
//   binary add       alpha: a + alpha*b. float32/16-bit floats: fma(alpha, b, a) rounded once (the
//                    CPU Vector API path); float64: a + alpha*b with two roundings (the CPU path);
//                    integers: a + (long) alpha * b, wrapping. ADD is alpha = 1 (exact).
//   binary sub       alpha: a - alpha*b, likewise (Tensor.sub(x, alpha) calls add with -alpha).
//   ternary addcmul  p0 = value: a + (value*b)*c, three roundings (not fused).
//   ternary addcdiv  p0 = value: a + (value*b)/c, three roundings (as Adam's composite).
//   ternary lerp     weight is the tensor c, p0 ignored: |w| < 0.5 ? a + w*(b-a)
//                    : b - (b-a)*(1-w) (PyTorch's formula), unfused.
//   ternary where    out = a ? b : c; p0 ignored.
//
// ======================================================================== SEMANTICS
//
// As the CPU path (UnaryOps/BinaryOps math and integral forms, Elements' casts):
//   * NaN: maximum/minimum/clamp propagate NaN (Java Math.max/min, +0.0 > -0.0); relu keeps
//     NaN; sign(NaN) = 0 and sign(-0.0) = +0; comparisons with NaN are false except ne;
//     logical ops and casts to bool read NaN as true; isfinite(+-inf) = 0.
//   * round: half to even (rint). floor/ceil/round of integers: unchanged.
//   * remainder: Python's modulo, result has the divisor's sign (floats: fmod then + b; x % 0
//     is NaN). floor_divide: floats as BinaryOps.floorDivide (floor of the exact quotient,
//     x // 0 = x / 0); integers Math.floorDiv/floorMod, Long.MIN // -1 = Long.MIN.
//   * Integer division by zero (floor_divide, remainder): the CPU path throws
//     ArithmeticException("ZeroDivisionError"); a kernel cannot, so it writes 0 there. A
//     host that wants the CPU's exception must check the divisor for zeros before launching.
//   * Integer pow with a negative exponent: 1 for base 1, +-1 for base -1, else 0 (PyTorch's
//     CUDA result); the CPU path throws "Integers to negative integer powers are not
//     allowed." there, so the host should check as above.
//   * pow (floats): Java's Math.pow, which differs from C/PyTorch in pow(1, NaN) = NaN and
//     pow(+-1, +-inf) = NaN (PyTorch gives 1).
//   * Transcendentals (exp, log, tanh, erfc, pow, ...) use CUDA's float/double libm, within a
//     few ulp of the CPU's float64 math rounded to the dtype; float32 computes in float32.
//   * Casts (PyTorch's rules, exactly as Elements.getLong/putLong/getDouble/putDouble):
//     to bool is "not zero"; float to integer truncates toward zero through int64 (NaN -> 0,
//     out of int64 range saturates) then wraps into the target width (float 300.7 -> uint8
//     44, -1.0 -> uint8 255); integer to integer wraps; integer and bool to float go through
//     float64 (int64 -> float32 rounds twice, as the CPU); float64 to float16/bfloat16 rounds
//     through float32, as PyTorch's Half(double).
//
// ======================================================================== LAUNCH
//
// Block: 256 threads (1-D), no dynamic shared memory, no workspace.
// Grid:  VEC = 16 / (smallest element size among the output and the inputs) (e.g. f32 unary
//        4, f16 8, anything with a bool/uint8 operand 16, where 16, cast f64->f32 4),
//        work  = ceil(numel / VEC),
//        grid  = min(ceil(work / 256), 65535); numel == 0: do not launch.
// Every kernel is a grid-stride loop, correct for any 1-D grid. Paths (chosen per launch):
// flags bit 0 with every pointer 16-byte aligned: VEC elements per thread per step as 128-bit
// loads and stores, the last numel % VEC elements one by one; flags bit 0 otherwise: a flat
// index; else the strided path, where each thread divides its first index and the grid stride
// into coordinates once and then steps with additions and a carry (see strided_copy.cu).

#include "ember_elementwise.cuh"

namespace ember::ew::ops {

constexpr double INV_SQRT_2 = 0.70710678118654752440;
constexpr double SQRT_2_OVER_PI = 0.79788456080286535588;

// UnaryOps.sigmoid: the two branches keep exp from overflowing.
template <class C> __device__ __forceinline__ C sigmoid(C x) {
    return x >= C(0) ? C(1) / (C(1) + fm::exp(-x)) : fm::exp(x) / (C(1) + fm::exp(x));
}

// MathFunctions.pow(long, long), wrapping; a negative exponent gives PyTorch's CUDA result
// where the CPU path throws (1 for 1, +-1 for -1, else 0).
__device__ __forceinline__ int64_t ipow(int64_t base, int64_t exp) {
    if (exp < 0) {
        if (base == 1) return 1;
        if (base == -1) return (exp & 1) == 0 ? 1 : -1;
        return 0;
    }
    int64_t result = 1;
    while (exp > 0) {
        if (exp & 1) result = wrap_mul(result, base);
        base = wrap_mul(base, base);
        exp >>= 1;
    }
    return result;
}

// Math.floorDiv / Math.floorMod; x / 0 gives 0 (the CPU path throws).
__device__ __forceinline__ int64_t floor_div(int64_t a, int64_t b) {
    if (b == 0) return 0;
    if (b == -1) return wrap_neg(a);  // Long.MIN / -1 overflows to Long.MIN, as Java
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
    return q;
}
__device__ __forceinline__ int64_t floor_mod(int64_t a, int64_t b) {
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

// ------------------------------------------------------------------ unary ops
//
// Each op is one struct u_<name>: fp<C> is its float math (C = float or double), integral its
// integer math on int64 (absent where Java's `integral` is null). Both are constructed once
// per thread from the launch's (p0, p1).

#define EMBER_UNARY_OP(NAME, FP, INT)                                                  \
    struct u_##NAME {                                                                  \
        template <class C> struct fp {                                                 \
            __device__ fp(double, double) {}                                           \
            __device__ __forceinline__ C operator()(C x) const { return FP; }          \
        };                                                                             \
        struct integral {                                                              \
            __device__ integral(double, double) {}                                     \
            __device__ __forceinline__ int64_t operator()(int64_t x) const { return INT; } \
        };                                                                             \
    };
#define EMBER_UNARY_FP(NAME, FP)                                                       \
    struct u_##NAME {                                                                  \
        template <class C> struct fp {                                                 \
            __device__ fp(double, double) {}                                           \
            __device__ __forceinline__ C operator()(C x) const { return FP; }          \
        };                                                                             \
    };

EMBER_UNARY_OP(neg, -x, wrap_neg(x))
EMBER_UNARY_OP(abs, fm::fabs(x), x < 0 ? wrap_neg(x) : x)
EMBER_UNARY_OP(sign, x > C(0) ? C(1) : (x < C(0) ? C(-1) : C(0)), x > 0 ? 1 : (x < 0 ? -1 : 0))
EMBER_UNARY_OP(relu, (x > C(0) || x != x) ? x : C(0), x > 0 ? x : 0)
EMBER_UNARY_OP(floor, fm::floor(x), x)
EMBER_UNARY_OP(ceil, fm::ceil(x), x)
EMBER_UNARY_OP(round, fm::rint(x), x)
EMBER_UNARY_OP(isnan, C(x != x ? 1 : 0), 0)
EMBER_UNARY_OP(isfinite, C(fm::fabs(x) < C(INFINITY) ? 1 : 0), 1)
EMBER_UNARY_OP(logical_not, C(x == C(0) ? 1 : 0), x == 0 ? 1 : 0)

EMBER_UNARY_FP(exp, fm::exp(x))
EMBER_UNARY_FP(log, fm::log(x))
EMBER_UNARY_FP(log1p, fm::log1p(x))
EMBER_UNARY_FP(expm1, fm::expm1(x))
EMBER_UNARY_FP(sqrt, fm::sqrt(x))
EMBER_UNARY_FP(rsqrt, C(1) / fm::sqrt(x))
EMBER_UNARY_FP(sin, fm::sin(x))
EMBER_UNARY_FP(cos, fm::cos(x))
EMBER_UNARY_FP(tanh, fm::tanh(x))
EMBER_UNARY_FP(sigmoid, sigmoid(x))
EMBER_UNARY_FP(gelu, C(0.5) * x * fm::erfc(-x * C(INV_SQRT_2)))
EMBER_UNARY_FP(gelu_tanh, C(0.5) * x * (C(1) + fm::tanh(C(SQRT_2_OVER_PI) * (x + C(0.044715) * x * x * x))))
EMBER_UNARY_FP(silu, x * sigmoid(x))
EMBER_UNARY_FP(normal_cdf, C(0.5) * fm::erfc(-x * C(INV_SQRT_2)))

// clamp(x, min = p0, max = p1); absent bounds are -inf / +inf.
struct u_clamp {
    template <class C> struct fp {
        C lo, hi;
        __device__ fp(double p0, double p1) : lo(static_cast<C>(p0)), hi(static_cast<C>(p1)) {}
        __device__ __forceinline__ C operator()(C x) const {
            return x != x ? x : fm::java_min(fm::java_max(x, lo), hi);
        }
    };
    struct integral {
        int64_t lo, hi;
        __device__ integral(double p0, double p1) : lo(java_d2l(::ceil(p0))), hi(java_d2l(::floor(p1))) {}
        __device__ __forceinline__ int64_t operator()(int64_t x) const {
            const int64_t m = x > lo ? x : lo;
            return m < hi ? m : hi;
        }
    };
};

// x ^ p0 for a scalar exponent.
struct u_pow {
    template <class C> struct fp {
        C e;
        bool square;
        __device__ fp(double p0, double) : e(static_cast<C>(p0)), square(p0 == 2.0) {}
        __device__ __forceinline__ C operator()(C x) const { return square ? x * x : fm::java_pow(x, e); }
    };
    struct integral {
        int64_t e;
        __device__ integral(double p0, double) : e(java_d2l(p0)) {}
        __device__ __forceinline__ int64_t operator()(int64_t x) const { return ipow(x, e); }
    };
};

// softplus(x; beta = p0, threshold = p1).
struct u_softplus {
    template <class C> struct fp {
        C beta, threshold;
        __device__ fp(double p0, double p1) : beta(static_cast<C>(p0)), threshold(static_cast<C>(p1)) {}
        __device__ __forceinline__ C operator()(C x) const {
            const C bx = x * beta;
            return bx > threshold ? x : fm::log1p(fm::exp(bx)) / beta;
        }
    };
};

// ------------------------------------------------------------------ binary ops
//
// As the unary ones, constructed once per thread from the launch's alpha.

#define EMBER_BINARY_OP(NAME, FP, INT)                                                         \
    struct b_##NAME {                                                                          \
        template <class C> struct fp {                                                         \
            __device__ fp(double) {}                                                           \
            __device__ __forceinline__ C operator()(C a, C b) const { return FP; }             \
        };                                                                                     \
        struct integral {                                                                      \
            __device__ integral(double) {}                                                     \
            __device__ __forceinline__ int64_t operator()(int64_t a, int64_t b) const { return INT; } \
        };                                                                                     \
    };
#define EMBER_BINARY_FP(NAME, FP)                                                              \
    struct b_##NAME {                                                                          \
        template <class C> struct fp {                                                         \
            __device__ fp(double) {}                                                           \
            __device__ __forceinline__ C operator()(C a, C b) const { return FP; }             \
        };                                                                                     \
    };
// Comparisons and logic: the same expression on float and integer values.
#define EMBER_BINARY_BOOL(NAME, EXPR) EMBER_BINARY_OP(NAME, C((EXPR) ? 1 : 0), (EXPR) ? 1 : 0)

// BinaryOps.floorDivide (Python's float //), written for float and double.
template <class C> __device__ __forceinline__ C floor_divide_fp(C a, C b) {
    if (b == C(0)) return a / b;
    const C mod = fm::fmod(a, b);
    C div = (a - mod) / b;
    if (mod != C(0) && ((b < C(0)) != (mod < C(0)))) div -= C(1);
    if (div == C(0)) return fm::copysign(C(0), a / b);
    const C fl = fm::floor(div);
    return div - fl > C(0.5) ? fl + C(1) : fl;
}

// MathFunctions.remainder: the result takes the divisor's sign.
template <class C> __device__ __forceinline__ C remainder_fp(C a, C b) {
    const C r = fm::fmod(a, b);
    return (r != C(0) && ((r < C(0)) != (b < C(0)))) ? r + b : r;
}

EMBER_BINARY_OP(mul, a * b, wrap_mul(a, b))
EMBER_BINARY_FP(div, fm::div_rn(a, b))
EMBER_BINARY_OP(pow, fm::java_pow(a, b), ipow(a, b))
EMBER_BINARY_OP(remainder, remainder_fp(a, b), floor_mod(a, b))
EMBER_BINARY_OP(floor_divide, floor_divide_fp(a, b), floor_div(a, b))
EMBER_BINARY_OP(maximum, fm::java_max(a, b), a > b ? a : b)
EMBER_BINARY_OP(minimum, fm::java_min(a, b), a < b ? a : b)
// threshold_backward(grad = a, output = b): the gradient where the output is > 0 (or NaN).
EMBER_BINARY_OP(threshold_backward, b <= C(0) ? C(0) : a, b <= 0 ? 0 : a)
EMBER_BINARY_BOOL(eq, a == b)
EMBER_BINARY_BOOL(ne, a != b)
EMBER_BINARY_BOOL(lt, a < b)
EMBER_BINARY_BOOL(le, a <= b)
EMBER_BINARY_BOOL(gt, a > b)
EMBER_BINARY_BOOL(ge, a >= b)
EMBER_BINARY_BOOL(logical_and, a != 0 && b != 0)
EMBER_BINARY_BOOL(logical_or, a != 0 || b != 0)

// a + alpha * b, as BinaryOps.ADD / addScaled.
struct b_add {
    template <class C> struct fp {
        C alpha;
        __device__ fp(double al) : alpha(static_cast<C>(al)) {}
        __device__ __forceinline__ C operator()(C a, C b) const {
            if constexpr (sizeof(C) == 8) return fm::add_rn(a, fm::mul_rn(alpha, b));
            else return fm::fma_rn(alpha, b, a);
        }
    };
    struct integral {
        int64_t alpha;
        __device__ integral(double al) : alpha(java_d2l(al)) {}
        __device__ __forceinline__ int64_t operator()(int64_t a, int64_t b) const { return wrap_add(a, wrap_mul(alpha, b)); }
    };
};

// a - alpha * b.
struct b_sub {
    template <class C> struct fp {
        C alpha;
        __device__ fp(double al) : alpha(static_cast<C>(al)) {}
        __device__ __forceinline__ C operator()(C a, C b) const {
            if constexpr (sizeof(C) == 8) return fm::sub_rn(a, fm::mul_rn(alpha, b));
            else return fm::fma_rn(-alpha, b, a);
        }
    };
    struct integral {
        int64_t alpha;
        __device__ integral(double al) : alpha(java_d2l(al)) {}
        __device__ __forceinline__ int64_t operator()(int64_t a, int64_t b) const { return wrap_sub(a, wrap_mul(alpha, b)); }
    };
};

// ------------------------------------------------------------------ ternary ops

// out = cond ? x : y; the condition arrives as bool (int64 0/1 after load).
template <class C> struct where_fn {
    __device__ where_fn(double) {}
    __device__ __forceinline__ C operator()(int64_t cond, C x, C y) const { return cond ? x : y; }
};

struct t_addcmul {
    template <class C> struct fp {
        C value;
        __device__ fp(double p0) : value(static_cast<C>(p0)) {}
        __device__ __forceinline__ C operator()(C a, C b, C c) const {
            return fm::add_rn(a, fm::mul_rn(fm::mul_rn(value, b), c));
        }
    };
};
struct t_addcdiv {
    template <class C> struct fp {
        C value;
        __device__ fp(double p0) : value(static_cast<C>(p0)) {}
        __device__ __forceinline__ C operator()(C a, C b, C c) const {
            return fm::add_rn(a, fm::div_rn(fm::mul_rn(value, b), c));
        }
    };
};
struct t_lerp {
    template <class C> struct fp {
        __device__ fp(double) {}
        __device__ __forceinline__ C operator()(C a, C b, C w) const {
            const C diff = fm::sub_rn(b, a);
            return fm::fabs(w) < C(0.5) ? fm::add_rn(a, fm::mul_rn(w, diff))
                                        : fm::sub_rn(b, fm::mul_rn(diff, fm::sub_rn(C(1), w)));
        }
    };
};

// ------------------------------------------------------------------ casts

// FROM's compute value to TO's compute value, as Elements' getDouble/putDouble (any float
// involved) or getLong/putLong (integers and bool only); TO::store then rounds or wraps.
template <class FROM, class TO> struct cast_fn {
    __device__ __forceinline__ typename TO::C operator()(typename FROM::C v) const {
        using T = typename TO::C;
        if constexpr (FROM::floating) {
            if constexpr (TO::floating) {
                return static_cast<T>(v);  // float64 -> float16/bfloat16 rounds via float32
            } else if constexpr (std::is_same_v<TO, dt_b8>) {
                return v != 0 ? 1 : 0;
            } else {
                return java_d2l(static_cast<double>(v));
            }
        } else {
            if constexpr (TO::floating) {
                return static_cast<T>(static_cast<double>(v));
            } else {
                return v;
            }
        }
    }
};

}  // namespace ember::ew::ops

// ---------------------------------------------------------------------- entry points

#define EMBER_UNARY_K(OP, DT, OUT)                                                                   \
    extern "C" __global__ void __launch_bounds__(256) ember_unary_##OP##_##DT(                         \
            void* out, const void* x, EmberLayout4 L, double p0, double p1) {                         \
        using namespace ember::ew;                                                                   \
        run<1, dt_##OUT, dt_##DT, dt_##DT, dt_##DT>(out, x, nullptr, nullptr, L,                      \
                                                     math_of<ops::u_##OP, dt_##DT>::type(p0, p1));    \
    }
#define EMBER_UNARY_SAME(OP, DT) EMBER_UNARY_K(OP, DT, DT)
#define EMBER_UNARY_BOOL(OP, DT) EMBER_UNARY_K(OP, DT, b8)

#define EMBER_BINARY_K(OP, DT, OUT)                                                                  \
    extern "C" __global__ void __launch_bounds__(256) ember_binary_##OP##_##DT(                        \
            void* out, const void* a, const void* b, EmberLayout4 L, double alpha) {                  \
        using namespace ember::ew;                                                                   \
        run<2, dt_##OUT, dt_##DT, dt_##DT, dt_##DT>(out, a, b, nullptr, L,                            \
                                                     math_of<ops::b_##OP, dt_##DT>::type(alpha));     \
    }
#define EMBER_BINARY_SAME(OP, DT) EMBER_BINARY_K(OP, DT, DT)
#define EMBER_BINARY_BOOLK(OP, DT) EMBER_BINARY_K(OP, DT, b8)

#define EMBER_TERNARY_FP(OP, DT)                                                                     \
    extern "C" __global__ void __launch_bounds__(256) ember_ternary_##OP##_##DT(                       \
            void* out, const void* a, const void* b, const void* c, EmberLayout4 L, double p0) {      \
        using namespace ember::ew;                                                                   \
        run<3, dt_##DT, dt_##DT, dt_##DT, dt_##DT>(out, a, b, c, L,                                   \
                                                    math_of<ops::t_##OP, dt_##DT>::type(p0));          \
    }
#define EMBER_TERNARY_WHERE(OP, DT)                                                                  \
    extern "C" __global__ void __launch_bounds__(256) ember_ternary_where_##DT(                        \
            void* out, const void* a, const void* b, const void* c, EmberLayout4 L, double p0) {      \
        using namespace ember::ew;                                                                   \
        run<3, dt_##DT, dt_b8, dt_##DT, dt_##DT>(out, a, b, c, L, ops::where_fn<dt_##DT::C>(p0));      \
    }

#define EMBER_CAST_K(FROM, TO)                                                                       \
    extern "C" __global__ void __launch_bounds__(256) ember_cast_##FROM##_##TO(                        \
            void* out, const void* x, EmberLayout4 L) {                                               \
        using namespace ember::ew;                                                                   \
        run<1, dt_##TO, dt_##FROM, dt_##FROM, dt_##FROM>(out, x, nullptr, nullptr, L,                 \
                                                          ops::cast_fn<dt_##FROM, dt_##TO>());        \
    }

// Unary.
EMBER_EW_NUMERIC(EMBER_UNARY_SAME, neg)
EMBER_EW_ALL(EMBER_UNARY_SAME, abs)
EMBER_EW_ALL(EMBER_UNARY_SAME, sign)
EMBER_EW_ALL(EMBER_UNARY_SAME, relu)
EMBER_EW_ALL(EMBER_UNARY_SAME, floor)
EMBER_EW_ALL(EMBER_UNARY_SAME, ceil)
EMBER_EW_ALL(EMBER_UNARY_SAME, round)
EMBER_EW_ALL(EMBER_UNARY_SAME, clamp)
EMBER_EW_ALL(EMBER_UNARY_SAME, pow)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, exp)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, log)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, log1p)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, expm1)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, sqrt)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, rsqrt)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, sin)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, cos)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, tanh)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, sigmoid)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, gelu)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, gelu_tanh)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, silu)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, normal_cdf)
EMBER_EW_FLOATING(EMBER_UNARY_SAME, softplus)
EMBER_EW_ALL(EMBER_UNARY_BOOL, isnan)
EMBER_EW_ALL(EMBER_UNARY_BOOL, isfinite)
EMBER_EW_ALL(EMBER_UNARY_BOOL, logical_not)

// Binary.
EMBER_EW_ALL(EMBER_BINARY_SAME, add)
EMBER_EW_NUMERIC(EMBER_BINARY_SAME, sub)
EMBER_EW_ALL(EMBER_BINARY_SAME, mul)
EMBER_EW_FLOATING(EMBER_BINARY_SAME, div)
EMBER_EW_ALL(EMBER_BINARY_SAME, pow)
EMBER_EW_ALL(EMBER_BINARY_SAME, remainder)
EMBER_EW_ALL(EMBER_BINARY_SAME, floor_divide)
EMBER_EW_ALL(EMBER_BINARY_SAME, maximum)
EMBER_EW_ALL(EMBER_BINARY_SAME, minimum)
EMBER_EW_ALL(EMBER_BINARY_SAME, threshold_backward)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, eq)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, ne)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, lt)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, le)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, gt)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, ge)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, logical_and)
EMBER_EW_ALL(EMBER_BINARY_BOOLK, logical_or)

// Ternary.
EMBER_EW_ALL(EMBER_TERNARY_WHERE, where)
EMBER_EW_FLOATING(EMBER_TERNARY_FP, addcmul)
EMBER_EW_FLOATING(EMBER_TERNARY_FP, addcdiv)
EMBER_EW_FLOATING(EMBER_TERNARY_FP, lerp)

// Casts: every (from, to) pair.
EMBER_EW_ALL(EMBER_CAST_K, f32)
EMBER_EW_ALL(EMBER_CAST_K, f64)
EMBER_EW_ALL(EMBER_CAST_K, f16)
EMBER_EW_ALL(EMBER_CAST_K, bf16)
EMBER_EW_ALL(EMBER_CAST_K, i32)
EMBER_EW_ALL(EMBER_CAST_K, i64)
EMBER_EW_ALL(EMBER_CAST_K, u8)
EMBER_EW_ALL(EMBER_CAST_K, b8)

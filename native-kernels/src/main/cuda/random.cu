// Random number kernels: uniform, normal, bernoulli and dropout, from a counter-based
// Philox4x32-10 generator (Salmon, Moraes, Dror and Shaw, "Parallel Random Numbers: As Easy
// as 1, 2, 3", SC'11), implemented here from the published algorithm.
//
// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------
// philox(counter, key) maps a 128-bit counter (four 32-bit words c0..c3) and a 64-bit key
// (k0, k1) to four 32-bit words by 10 rounds of
//     (c0, c1, c2, c3) <- (hi(M1*c2) ^ c1 ^ k0,  lo(M1*c2),  hi(M0*c0) ^ c3 ^ k1,  lo(M0*c0))
// with M0 = 0xD2511F53, M1 = 0xCD9E8D57 (hi/lo: the halves of the 64-bit product), the key
// bumped by (0x9E3779B9, 0xBB67AE85) between rounds (9 bumps). It reproduces the Random123
// known-answer vectors, e.g. counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
//
// Every kernel here takes (seed, offset), both uint64, and uses
//     key     = (k0, k1)         = (low 32 bits of seed, high 32 bits of seed)
//     counter = (c0, c1, c2, c3) = (low, high 32 bits of b; low, high 32 bits of offset)
// for "block" b = 0, 1, 2, ...: block b yields 4 words, which feed a fixed set of elements:
//
//   one word per element  (uniform f32/f16/bf16, bernoulli, bernoulli_tensor, dropout):
//       element i uses word (i % 4) of block i / 4
//   uniform f64:           element i uses words 2(i % 2), 2(i % 2) + 1 of block i / 2
//   normal f32/f16/bf16:   block i / 4; words (0, 1) give elements 4b, 4b+1 (cos, sin of one
//                          Box-Muller pair), words (2, 3) give elements 4b+2, 4b+3
//   normal f64:            block i / 2; all 4 words give elements 2b (cos), 2b+1 (sin)
//
// So each element's value depends only on (seed, offset, element index, kernel): not on the
// grid, the block size or n (a call with n = 10 gives the first 10 values of the same call
// with n = 100). Results are identical for any launch configuration.
//
// Advancing the offset: one call consumes the counters (b, offset) for b < 2^64, i.e. exactly
// ONE offset value, whatever n is. The host keeps a per-generator pair (seed, offset), passes
// it to a call and then increments offset by 1 (manual_seed(s) sets (s, 0)). Two calls with
// the same (seed, offset) draw the same words, so never reuse a pair except to reproduce.
// dropout_backward draws nothing (it takes no seed).
//
// Conversions from words (x is a 32-bit word, a:b the 64-bit word a * 2^32 + b):
//   u24(x) = (x >> 8) * 2^-24           in [0, 1), 24 bits: float uniforms, bernoulli, dropout
//   u53(a, b) = (a:b >> 11) * 2^-53     in [0, 1), 53 bits: double uniforms
//   Box-Muller: u1 = u24(x) + 2^-24 in (0, 1] (never log 0), u2 = u24(y);
//       z = sqrt(-2 ln u1) * (cos 2 pi u2, sin 2 pi u2); f64 uses u53 likewise
//       (u1 = u53 + 2^-53).
//
// ---------------------------------------------------------------------------------------
// Entry points (T is the storage type of the dtype suffix; C its compute type: float for
// f32/f16/bf16, double for f64). All buffers contiguous and aligned to their element size.
// ---------------------------------------------------------------------------------------
//   ember_rand_uniform_<dt>(T* out, int64_t n, double low, double high, uint64_t seed,
//                           uint64_t offset)                          f32 f64 f16 bf16
//       out[i] = T(low + (high - low) * u), computed in C; a value that rounds to T(high)
//       or above becomes T(low) (PyTorch's rule), so results lie in [low, high).
//       low = 0, high = 1 is torch.rand. The host checks low <= high, both finite.
//
//   ember_rand_normal_<dt>(T* out, int64_t n, double mean, double std, uint64_t seed,
//                          uint64_t offset)                           f32 f64 f16 bf16
//       out[i] = T(mean + std * z), computed in C. mean 0, std 1 is torch.randn.
//
//   ember_rand_bernoulli_<dt>(T* out, int64_t n, double p, uint64_t seed, uint64_t offset)
//       all 8 dtypes. out[i] = 1 if u24 < p else 0 (probability p of a one; p in [0, 1],
//       checked by the host; values outside are clamped). torch.bernoulli(t, p).
//
//   ember_rand_bernoulli_tensor_<dt>(T* out, const T* prob, int64_t n, uint64_t seed,
//                                    uint64_t offset)                 f32 f64 f16 bf16
//       out[i] = 1 if u24 < prob[i] else 0 (torch.bernoulli(prob)). out may equal prob
//       (each element is read before it is written, by the same thread).
//
//   ember_dropout_<dt>(T* out, uint8_t* mask, const T* in, int64_t n, double p,
//                      uint64_t seed, uint64_t offset)                f32 f64 f16 bf16
//       mask[i] = 1 if u24 >= p (kept, probability 1 - p) else 0; out[i] = (in[i] * mask[i]) *
//       scale in C, scale = 1 / (1 - p) (0 when p >= 1, so p = 1 gives in * 0 as PyTorch).
//       The keep rule is the CPU backend's (rand >= p). out may equal in.
//       p in [0, 1] is checked by the host; p = 0 or eval mode is the host's shortcut
//       (no launch, no offset consumed) as on the CPU.
//
//   ember_dropout_backward_<dt>(T* dx, const T* dy, const uint8_t* mask, int64_t n, double p)
//       f32 f64 f16 bf16. dx[i] = (dy[i] * mask[i]) * scale with the forward's scale. dx may
//       equal dy.
//
// Launch: any 1-D grid, any block size (grid-stride loops; no shared memory, no workspace).
// The elementwise unit is a Philox block: blocks = ceil(n / 4) (ceil(n / 2) for uniform and
// normal f64; n for dropout_backward); suggested block 256 threads and
// ceil(units / 256) blocks capped at a few waves of the device's SMs. n = 0 needs no launch
// (whether such a call still advances the offset is the host's choice; keep it fixed).

#include "ember_common.cuh"
#include "ember_dtypes.cuh"

#include <type_traits>

namespace ember::random {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

struct Words {
    uint32_t w[4];
};

// Philox4x32-10. __host__ too, so the known-answer vectors can be checked without a GPU.
__host__ __device__ __forceinline__ Words philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                                         uint32_t k0, uint32_t k1) {
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += kPhiloxW0;
            k1 += kPhiloxW1;
        }
        const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c0;
        const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c2;
        const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
        const uint32_t n1 = static_cast<uint32_t>(p1);
        const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
        const uint32_t n3 = static_cast<uint32_t>(p0);
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
    }
    return Words{{c0, c1, c2, c3}};
}

// The 4 words of Philox block b of a call.
__host__ __device__ __forceinline__ Words block_words(uint64_t b, uint64_t seed, uint64_t offset) {
    return philox4x32_10(static_cast<uint32_t>(b), static_cast<uint32_t>(b >> 32), static_cast<uint32_t>(offset),
                         static_cast<uint32_t>(offset >> 32), static_cast<uint32_t>(seed),
                         static_cast<uint32_t>(seed >> 32));
}

__host__ __device__ __forceinline__ float u24(uint32_t x) { return static_cast<float>(x >> 8) * 0x1p-24f; }

__host__ __device__ __forceinline__ double u53(uint32_t hi, uint32_t lo) {
    const uint64_t bits = (static_cast<uint64_t>(hi) << 32) | lo;
    return static_cast<double>(bits >> 11) * 0x1p-53;
}

// A Box-Muller pair from two words (float) ...
__device__ __forceinline__ void box_muller(uint32_t x, uint32_t y, float* z_cos, float* z_sin) {
    const float u1 = u24(x) + 0x1p-24f;  // (0, 1]: exact, both terms are multiples of 2^-24 below 2^0
    const float u2 = u24(y);
    const float r = sqrtf(-2.0f * logf(u1));
    float s, c;
    sincospif(2.0f * u2, &s, &c);
    *z_cos = r * c;
    *z_sin = r * s;
}

// ... and from four words (double).
__device__ __forceinline__ void box_muller(uint32_t a, uint32_t b, uint32_t c, uint32_t d, double* z_cos,
                                           double* z_sin) {
    const double u1 = u53(a, b) + 0x1p-53;
    const double u2 = u53(c, d);
    const double r = sqrt(-2.0 * log(u1));
    double s, co;
    sincospi(2.0 * u2, &s, &co);
    *z_cos = r * co;
    *z_sin = r * s;
}

// The integer form of "u24(x) < p": (x >> 8) < ceil(p * 2^24), exact because p * 2^24 is.
// Clamped to [0, 2^24], so p <= 0 (or NaN) never hits and p >= 1 always does.
__device__ __forceinline__ uint32_t threshold24(double p) {
    const double t = ceil(p * 16777216.0);
    if (!(t > 0.0)) return 0;
    if (t >= 16777216.0) return 16777216u;
    return static_cast<uint32_t>(t);
}

// ----------------------------------------------------------------------------- uniform / normal

template <typename T>
__device__ __forceinline__ void uniform(T* __restrict__ out, int64_t n, double low, double high, uint64_t seed,
                                        uint64_t offset) {
    using C = compute_t<T>;
    constexpr bool wide = std::is_same_v<T, double>;
    constexpr int64_t per_block = wide ? 2 : 4;
    const C lo = static_cast<C>(low);
    const C range = static_cast<C>(high - low);
    // The bound as the dtype holds it: values that round onto it or beyond are folded back.
    const C hi = load_as_compute(store_from<T>(static_cast<C>(high)));
    const T low_value = store_from<T>(lo);
    const int64_t blocks = (n + per_block - 1) / per_block;
    for (int64_t b = global_thread_index(); b < blocks; b += grid_stride()) {
        const Words r = block_words(static_cast<uint64_t>(b), seed, offset);
#pragma unroll
        for (int j = 0; j < per_block; ++j) {
            const int64_t i = b * per_block + j;
            if (i < n) {
                C u;
                if constexpr (wide) {
                    u = u53(r.w[2 * j], r.w[2 * j + 1]);
                } else {
                    u = u24(r.w[j]);
                }
                T v = store_from<T>(u * range + lo);
                if (!(load_as_compute(v) < hi)) v = low_value;
                out[i] = v;
            }
        }
    }
}

template <typename T>
__device__ __forceinline__ void normal(T* __restrict__ out, int64_t n, double mean, double std, uint64_t seed,
                                       uint64_t offset) {
    using C = compute_t<T>;
    constexpr bool wide = std::is_same_v<T, double>;
    constexpr int64_t per_block = wide ? 2 : 4;
    const C m = static_cast<C>(mean);
    const C s = static_cast<C>(std);
    const int64_t blocks = (n + per_block - 1) / per_block;
    for (int64_t b = global_thread_index(); b < blocks; b += grid_stride()) {
        const Words r = block_words(static_cast<uint64_t>(b), seed, offset);
        C z[per_block];
        if constexpr (wide) {
            box_muller(r.w[0], r.w[1], r.w[2], r.w[3], &z[0], &z[1]);
        } else {
            box_muller(r.w[0], r.w[1], &z[0], &z[1]);
            box_muller(r.w[2], r.w[3], &z[2], &z[3]);
        }
#pragma unroll
        for (int j = 0; j < per_block; ++j) {
            const int64_t i = b * per_block + j;
            if (i < n) out[i] = store_from<T>(m + s * z[j]);
        }
    }
}

// ----------------------------------------------------------------------------- bernoulli / dropout

// Calls visit(i, word) for every element this thread owns, one word per element.
template <typename Visit>
__device__ __forceinline__ void for_each_word(int64_t n, uint64_t seed, uint64_t offset, Visit visit) {
    const int64_t blocks = (n + 3) / 4;
    for (int64_t b = global_thread_index(); b < blocks; b += grid_stride()) {
        const Words r = block_words(static_cast<uint64_t>(b), seed, offset);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int64_t i = b * 4 + j;
            if (i < n) visit(i, r.w[j]);
        }
    }
}

template <typename T>
__device__ __forceinline__ void bernoulli(T* __restrict__ out, int64_t n, double p, uint64_t seed, uint64_t offset) {
    const uint32_t t = threshold24(p);
    for_each_word(n, seed, offset, [&](int64_t i, uint32_t x) { out[i] = convert_to<T>((x >> 8) < t ? 1 : 0); });
}

// Not __restrict__: out may alias prob.
template <typename T>
__device__ __forceinline__ void bernoulli_tensor(T* out, const T* prob, int64_t n, uint64_t seed, uint64_t offset) {
    using C = compute_t<T>;
    for_each_word(n, seed, offset, [&](int64_t i, uint32_t x) {
        const C u = static_cast<C>(u24(x));
        out[i] = store_from<T>(u < load_as_compute(prob[i]) ? C(1) : C(0));
    });
}

// 1 / (1 - p) in C; 0 for p >= 1 (everything dropped: in * 0).
template <typename C>
__device__ __forceinline__ C dropout_scale(double p) {
    return static_cast<C>(p < 1.0 ? 1.0 / (1.0 - p) : 0.0);
}

// Not __restrict__ on out/in: out may alias in.
template <typename T>
__device__ __forceinline__ void dropout(T* out, uint8_t* __restrict__ mask, const T* in, int64_t n, double p,
                                        uint64_t seed, uint64_t offset) {
    using C = compute_t<T>;
    const uint32_t t = threshold24(p);
    const C scale = dropout_scale<C>(p);
    for_each_word(n, seed, offset, [&](int64_t i, uint32_t x) {
        const uint8_t keep = (x >> 8) >= t ? 1 : 0;
        mask[i] = keep;
        out[i] = store_from<T>((load_as_compute(in[i]) * static_cast<C>(keep)) * scale);
    });
}

template <typename T>
__device__ __forceinline__ void dropout_backward(T* dx, const T* dy, const uint8_t* __restrict__ mask, int64_t n,
                                                 double p) {
    using C = compute_t<T>;
    const C scale = dropout_scale<C>(p);
    for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
        dx[i] = store_from<T>((load_as_compute(dy[i]) * static_cast<C>(mask[i])) * scale);
    }
}

}  // namespace ember::random

// ----------------------------------------------------------------------------- entry points

#define EMBER_RANDOM_FLOATING_KERNELS(SUFFIX, T)                                                                  \
    extern "C" __global__ void ember_rand_uniform_##SUFFIX(T* out, int64_t n, double low, double high,           \
                                                           uint64_t seed, uint64_t offset) {                     \
        ember::random::uniform(out, n, low, high, seed, offset);                                                  \
    }                                                                                                             \
    extern "C" __global__ void ember_rand_normal_##SUFFIX(T* out, int64_t n, double mean, double std,            \
                                                          uint64_t seed, uint64_t offset) {                      \
        ember::random::normal(out, n, mean, std, seed, offset);                                                   \
    }                                                                                                             \
    extern "C" __global__ void ember_rand_bernoulli_tensor_##SUFFIX(T* out, const T* prob, int64_t n,            \
                                                                    uint64_t seed, uint64_t offset) {            \
        ember::random::bernoulli_tensor(out, prob, n, seed, offset);                                              \
    }                                                                                                             \
    extern "C" __global__ void ember_dropout_##SUFFIX(T* out, uint8_t* mask, const T* in, int64_t n, double p,   \
                                                      uint64_t seed, uint64_t offset) {                          \
        ember::random::dropout(out, mask, in, n, p, seed, offset);                                                \
    }                                                                                                             \
    extern "C" __global__ void ember_dropout_backward_##SUFFIX(T* dx, const T* dy, const uint8_t* mask,          \
                                                               int64_t n, double p) {                            \
        ember::random::dropout_backward(dx, dy, mask, n, p);                                                      \
    }

EMBER_FOR_EACH_FLOATING(EMBER_RANDOM_FLOATING_KERNELS)

#define EMBER_RANDOM_BERNOULLI_KERNEL(SUFFIX, T)                                                                  \
    extern "C" __global__ void ember_rand_bernoulli_##SUFFIX(T* out, int64_t n, double p, uint64_t seed,         \
                                                             uint64_t offset) {                                  \
        ember::random::bernoulli(out, n, p, seed, offset);                                                        \
    }

EMBER_FOR_EACH_DTYPE(EMBER_RANDOM_BERNOULLI_KERNEL)

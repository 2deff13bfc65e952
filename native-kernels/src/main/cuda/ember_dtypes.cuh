// Ember's dtypes on the device: the storage type of each, the type its arithmetic runs in,
// and the conversions between them. Shared by every kernel family, so a dtype is spelled
// the same way in every kernel name:
//
//   suffix  dtype     storage          computes in
//   f32     float32   float            float
//   f64     float64   double           double
//   f16     float16   __half           float   (stored compactly, computed in float32)
//   bf16    bfloat16  __nv_bfloat16    float   (likewise)
//   i32     int32     int32_t          int32_t (int64_t for accumulations)
//   i64     int64     int64_t          int64_t
//   u8      uint8     uint8_t          uint8_t (int64_t for accumulations)
//   b8      bool      uint8_t, 0 or 1  bool
//
// EMBER_FOR_EACH_DTYPE(X) expands X(suffix, storage type) once per dtype, and the narrower
// lists below once per dtype of that kind; kernel files instantiate their extern "C" entry
// points with them, so every family covers the same dtypes under the same names.
#pragma once

#include <cstdint>
#include <type_traits>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define EMBER_FOR_EACH_FLOATING(X) X(f32, float) X(f64, double) X(f16, __half) X(bf16, __nv_bfloat16)
#define EMBER_FOR_EACH_INTEGRAL(X) X(i32, int32_t) X(i64, int64_t) X(u8, uint8_t)
#define EMBER_FOR_EACH_NUMERIC(X) EMBER_FOR_EACH_FLOATING(X) EMBER_FOR_EACH_INTEGRAL(X)
#define EMBER_FOR_EACH_DTYPE(X) EMBER_FOR_EACH_NUMERIC(X) X(b8, bool)

namespace ember {

// The type a storage type computes in: float for the 16-bit floats, itself otherwise.
template <typename T> struct compute { using type = T; };
template <> struct compute<__half> { using type = float; };
template <> struct compute<__nv_bfloat16> { using type = float; };
template <typename T> using compute_t = typename compute<T>::type;

// The type a sum of T accumulates in: float32 for floats below 64 bits (as PyTorch's CUDA
// reductions), double for double, int64 for every integer and bool.
template <typename T> struct accumulate { using type = int64_t; };
template <> struct accumulate<float> { using type = float; };
template <> struct accumulate<double> { using type = double; };
template <> struct accumulate<__half> { using type = float; };
template <> struct accumulate<__nv_bfloat16> { using type = float; };
template <typename T> using accumulate_t = typename accumulate<T>::type;

// Storage to compute type and back. Narrowing to a 16-bit float rounds to nearest even.
template <typename T> __device__ __forceinline__ compute_t<T> load_as_compute(T v) { return v; }
template <> __device__ __forceinline__ float load_as_compute<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float load_as_compute<__nv_bfloat16>(__nv_bfloat16 v) {
    return __bfloat162float(v);
}

template <typename T> __device__ __forceinline__ T store_from(compute_t<T> v) { return static_cast<T>(v); }
template <> __device__ __forceinline__ __half store_from<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 store_from<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

// Any arithmetic value to any storage type, with PyTorch's cast rules at the edges: to bool
// is "not zero" (NaN is true), float to integer truncates toward zero.
template <typename T, typename V> __device__ __forceinline__ T convert_to(V v) {
    if constexpr (std::is_same_v<T, bool>) {
        return v != V(0);
    } else if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>) {
        return store_from<T>(static_cast<float>(v));
    } else {
        return static_cast<T>(v);
    }
}

}  // namespace ember

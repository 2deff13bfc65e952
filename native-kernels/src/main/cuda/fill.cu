// Fill kernels: set every element of a contiguous buffer to one value.
//
// Entry points (all extern "C", so cuModuleGetFunction finds them by these names):
//
//   ember_fill_f32 (float*    dst, float    value, int64_t n)   float32
//   ember_fill_f64 (double*   dst, double   value, int64_t n)   float64
//   ember_fill_i32 (int32_t*  dst, int32_t  value, int64_t n)   int32
//   ember_fill_i64 (int64_t*  dst, int64_t  value, int64_t n)   int64
//   ember_fill_u8  (uint8_t*  dst, uint8_t  value, int64_t n)   uint8 and bool (0 or 1)
//   ember_fill_f16 (uint16_t* dst, uint16_t bits,  int64_t n)   float16, as its IEEE binary16 bits
//   ember_fill_bf16(uint16_t* dst, uint16_t bits,  int64_t n)   bfloat16, as its bits
//
// The value is written bit for bit (no arithmetic touches it), so -0.0 and NaN payloads
// survive. The 16-bit types take their bit pattern because the host converts float to
// half/bfloat16 itself and a plain 16-bit parameter keeps the launch ABI obvious.
//
// Requirements: dst is aligned to the element size (any device allocation plus a whole
// number of elements is) and the n elements are contiguous; a strided fill is a
// strided copy from a one-element source with stride 0 (see strided_copy.cu).
//
// Launch: any 1-D grid works (grid-stride loop). One thread per 16-byte chunk is the
// natural size: blocks = ceil(n * sizeof(T) / (16 * blockDim.x)), block of 256 threads,
// capped at a few waves of the device's SMs for very large n.

#include "ember_common.cuh"

#include <cstring>

namespace ember::fill {

// value repeated across a 16-byte vector, built bit for bit.
template <typename T>
__device__ __forceinline__ uint4 splat16(T value) {
    T lanes[16 / sizeof(T)];
#pragma unroll
    for (int i = 0; i < static_cast<int>(16 / sizeof(T)); ++i) lanes[i] = value;
    uint4 v;
    memcpy(&v, lanes, sizeof v);
    return v;
}

// T is an unsigned integer of the element's width: fills copy bits, never values.
template <typename T>
__device__ __forceinline__ void fill_contiguous(T* __restrict__ dst, T value, int64_t n) {
    static_assert(16 % sizeof(T) == 0, "element width must divide 16 bytes");
    constexpr int64_t per_vec = 16 / sizeof(T);
    const int64_t first = global_thread_index();
    const int64_t step = grid_stride();

    // Whole elements before the first 16-byte boundary, written one by one. dst is
    // element-aligned, so the gap to that boundary is a whole number of elements.
    const auto addr = reinterpret_cast<uintptr_t>(dst);
    int64_t head = static_cast<int64_t>(((16 - (addr & 15)) & 15) / sizeof(T));
    if (head > n) head = n;
    for (int64_t i = first; i < head; i += step) dst[i] = value;

    // The aligned body as 128-bit stores: one instruction per 16 bytes instead of up to 16.
    const int64_t vec_count = (n - head) / per_vec;
    uint4* __restrict__ body = reinterpret_cast<uint4*>(dst + head);
    const uint4 pattern = splat16(value);
    for (int64_t i = first; i < vec_count; i += step) body[i] = pattern;

    // Fewer than per_vec elements left after the last whole vector.
    for (int64_t i = head + vec_count * per_vec + first; i < n; i += step) dst[i] = value;
}

}  // namespace ember::fill

using ember::fill::fill_contiguous;

extern "C" __global__ void ember_fill_f32(float* dst, float value, int64_t n) {
    fill_contiguous(reinterpret_cast<uint32_t*>(dst), __float_as_uint(value), n);
}

extern "C" __global__ void ember_fill_f64(double* dst, double value, int64_t n) {
    fill_contiguous(reinterpret_cast<uint64_t*>(dst),
                    static_cast<uint64_t>(__double_as_longlong(value)), n);
}

extern "C" __global__ void ember_fill_i32(int32_t* dst, int32_t value, int64_t n) {
    fill_contiguous(reinterpret_cast<uint32_t*>(dst), static_cast<uint32_t>(value), n);
}

extern "C" __global__ void ember_fill_i64(int64_t* dst, int64_t value, int64_t n) {
    fill_contiguous(reinterpret_cast<uint64_t*>(dst), static_cast<uint64_t>(value), n);
}

extern "C" __global__ void ember_fill_u8(uint8_t* dst, uint8_t value, int64_t n) {
    fill_contiguous(dst, value, n);
}

extern "C" __global__ void ember_fill_f16(uint16_t* dst, uint16_t bits, int64_t n) {
    fill_contiguous(dst, bits, n);
}

extern "C" __global__ void ember_fill_bf16(uint16_t* dst, uint16_t bits, int64_t n) {
    fill_contiguous(dst, bits, n);
}

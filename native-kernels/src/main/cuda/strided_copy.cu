// Strided copy: copy an N-d view (any strides) into another N-d view of the same shape
// (any strides). This is the kernel behind contiguous(), clone() and copy_() between
// non-contiguous tensors, permute/transpose materialisation and expand (stride 0).
//
// Entry points, by element width in bytes (the copy moves bits; dtype does not matter):
//
//   ember_strided_copy_1(void* dst, const void* src, EmberStridedLayout layout)  bool, uint8
//   ember_strided_copy_2(...)                                                      float16, bfloat16
//   ember_strided_copy_4(...)                                                      float32, int32
//   ember_strided_copy_8(...)                                                      float64, int64
//
// dst and src point at element 0 of each view (storage base plus storage offset). The
// layout is passed by value as a kernel parameter (200 bytes, 8-byte aligned):
//
//   offset   0  int64 sizes[8]        sizes of the view, outermost first (row-major order)
//   offset  64  int64 dst_strides[8]  in elements, any sign
//   offset 128  int64 src_strides[8]  in elements, any sign; 0 repeats (broadcast/expand)
//   offset 192  int32 ndim            0..8; 0 is a scalar (one element)
//   offset 196  int32 reserved        must be 0
//
// Entries at index >= ndim are ignored. Callers should merge dimensions that are
// contiguous in both views and drop size-1 dimensions first: fewer dimensions means
// less index arithmetic per element. dst must not overlap src (dst elements may not
// alias each other either). Both pointers are aligned to the element width.
//
// Launch: any 1-D grid (grid-stride loop); blocks of 256 threads and
// ceil(numel / 256) blocks, capped at a few waves of the device's SMs, is a good size.
//
// Index arithmetic: turning a linear index into N coordinates costs a 64-bit division
// per dimension, which is slow on a GPU. Each thread does that only once, for its
// first element and for the grid stride; every later element is reached by adding the
// stride's coordinates with a carry, which needs only additions and compares.

#include "ember_common.cuh"

#define EMBER_MAX_DIMS 8

struct EmberStridedLayout {
    int64_t sizes[EMBER_MAX_DIMS];
    int64_t dst_strides[EMBER_MAX_DIMS];
    int64_t src_strides[EMBER_MAX_DIMS];
    int32_t ndim;
    int32_t reserved;
};

// The host builds this struct byte by byte; these pin the layout documented above.
static_assert(sizeof(EmberStridedLayout) == 200, "EmberStridedLayout must be 200 bytes");
static_assert(alignof(EmberStridedLayout) == 8, "EmberStridedLayout must be 8-byte aligned");
static_assert(offsetof(EmberStridedLayout, dst_strides) == 64, "dst_strides at 64");
static_assert(offsetof(EmberStridedLayout, src_strides) == 128, "src_strides at 128");
static_assert(offsetof(EmberStridedLayout, ndim) == 192, "ndim at 192");

namespace ember::strided {

// T is an unsigned integer of the element's width.
template <typename T>
__device__ __forceinline__ void strided_copy(T* __restrict__ dst, const T* __restrict__ src,
                                             const EmberStridedLayout& layout) {
    const int ndim = layout.ndim;
    int64_t numel = 1;
#pragma unroll
    for (int d = 0; d < EMBER_MAX_DIMS; ++d) {
        if (d < ndim) numel *= layout.sizes[d];
    }

    const int64_t first = global_thread_index();
    const int64_t step = grid_stride();
    // Also covers numel == 0, so no size below is zero when we divide by it.
    if (first >= numel) return;

    // Coordinates of this thread's first element, and the grid stride written in the
    // same mixed radix (both innermost dimension first). The loops are unrolled over
    // the fixed maximum so the arrays stay in registers.
    int64_t coord[EMBER_MAX_DIMS];
    int64_t step_coord[EMBER_MAX_DIMS];
    int64_t dst_off = 0;
    int64_t src_off = 0;
    int64_t rest = first;
    int64_t step_rest = step;
#pragma unroll
    for (int d = EMBER_MAX_DIMS - 1; d >= 0; --d) {
        coord[d] = 0;
        step_coord[d] = 0;
        if (d < ndim) {
            const int64_t size = layout.sizes[d];
            coord[d] = rest % size;
            rest /= size;
            step_coord[d] = step_rest % size;
            step_rest /= size;
            dst_off += coord[d] * layout.dst_strides[d];
            src_off += coord[d] * layout.src_strides[d];
        }
    }

    for (int64_t i = first; i < numel; i += step) {
        dst[dst_off] = src[src_off];

        // coord += step_coord, innermost first, carrying into the next dimension out.
        // Each digit is below its size, so digit + step digit + carry wraps at most
        // once. A carry out of the outermost dimension means i + step >= numel, and
        // the loop ends before the stale coordinates are used.
        int64_t carry = 0;
#pragma unroll
        for (int d = EMBER_MAX_DIMS - 1; d >= 0; --d) {
            if (d < ndim) {
                const int64_t size = layout.sizes[d];
                int64_t next = coord[d] + step_coord[d] + carry;
                carry = next >= size ? 1 : 0;
                if (carry) next -= size;
                const int64_t moved = next - coord[d];
                dst_off += moved * layout.dst_strides[d];
                src_off += moved * layout.src_strides[d];
                coord[d] = next;
            }
        }
    }
}

}  // namespace ember::strided

using ember::strided::strided_copy;

extern "C" __global__ void ember_strided_copy_1(void* dst, const void* src, EmberStridedLayout layout) {
    strided_copy(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), layout);
}

extern "C" __global__ void ember_strided_copy_2(void* dst, const void* src, EmberStridedLayout layout) {
    strided_copy(static_cast<uint16_t*>(dst), static_cast<const uint16_t*>(src), layout);
}

extern "C" __global__ void ember_strided_copy_4(void* dst, const void* src, EmberStridedLayout layout) {
    strided_copy(static_cast<uint32_t*>(dst), static_cast<const uint32_t*>(src), layout);
}

extern "C" __global__ void ember_strided_copy_8(void* dst, const void* src, EmberStridedLayout layout) {
    strided_copy(static_cast<uint64_t*>(dst), static_cast<const uint64_t*>(src), layout);
}

// Indexing kernels: gather, scatter (src and value forms), scatter_add, index_select,
// index_add, masked_fill, one_hot, and embedding forward/backward. Semantics follow
// torch.gather / scatter / scatter_add / index_select / index_add / masked_fill /
// nn.functional.one_hot / nn.functional.embedding and Ember's CPU backend
// (tensor/.../Indexing.java, cpu/CpuIndexKernels.java).
//
// ---------------------------------------------------------------------------------------
// Out-of-range indices
// ---------------------------------------------------------------------------------------
// Every index is checked on the device before it is used: an index outside [0, size) (a
// negative index is an error, as in PyTorch and the CPU backend) is skipped (nothing is read
// or written through it) and reported into an EmberIndexError record (16 bytes, see
// ember_index_error.cuh: int32 flag at 0, int64 smallest bad position at 8; the host sets
// {0, 0, INT64_MAX} once, kernels write it only on error). After the launch the host reads
// the record back; if flag != 0 it reads the index value at `position` and throws
// "index X is out of bounds for dimension D with size S" (index_select prefixes
// "index_select(): index out of range in self: "). Elements whose index was bad are left
// unwritten (gather/index_select outputs there hold whatever was in memory), which does not
// matter because the op throws. `position` is, per kernel:
//   layout kernels (gather, scatter, scatter_value, scatter_add): the row-major linear
//     position in the iteration shape (= index's shape), i.e. the element offset into a
//     contiguous index; for a strided index the host unravels it over layout.sizes and
//     takes the dot product with its strides;
//   along kernels (index_select, index_add, embedding): the position k in the 1-D index;
//   one_hot: the position in the (flattened) class tensor.
// The error pointer may be null (bad indices are then skipped silently).
//
// ---------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------
// (a) Layout kernels take any strides, through this struct passed by value (280 bytes,
//     8-byte aligned). Strides and offsets are in elements, any sign; entries at index >=
//     ndim are ignored.
//
//   offset   0  int64 sizes[8]          the iteration shape, outermost first (for gather,
//                                        scatter and scatter_add: index's shape; for
//                                        masked_fill: self's shape)
//   offset  64  int64 self_strides[8]   self (gather: the input read; scatter/scatter_add:
//                                        the tensor written; masked_fill: the tensor filled).
//                                        For gather/scatter/scatter_add the entry at the
//                                        indexed dim MUST be 0: the index supplies that
//                                        coordinate (this is how the CPU kernels work).
//   offset 128  int64 index_strides[8]  the int64 index tensor (unused by masked_fill: 0)
//   offset 192  int64 other_strides[8]  gather: out; scatter/scatter_add: src;
//                                        masked_fill: the bool mask (0 where broadcast)
//   offset 256  int64 dim_size          self's size along the indexed dim: valid indices
//                                        are [0, dim_size) (masked_fill: unused)
//   offset 264  int64 dim_stride        self's stride along the indexed dim, in elements
//                                        (masked_fill: unused)
//   offset 272  int32 ndim              0..8; 0 is a single element (a 0-d tensor)
//   offset 276  int32 reserved          must be 0
//
//     PyTorch's shape rules (index fits in self apart from dim, and in src) are checked by
//     the host; the kernel trusts sizes and strides. As on the CPU, a 0-d tensor is treated
//     as shape [1] (or ndim 0). Merging dims and dropping size-1 dims is allowed when it
//     keeps the row-major order of positions (the reported position is in that order).
//
// (b) Along kernels take contiguous tensors, seen as [outer, dim_size, inner] for self and
//     [outer, k, inner] for the other operand, and a contiguous 1-D index of k entries
//     (int32 or int64: the _i32/_i64 suffix). The host makes inputs contiguous and passes
//     outer = prod(shape[:dim]), inner = prod(shape[dim+1:]).
//
// Every pointer points at element 0 of its tensor and is aligned to the element size; a
// device allocation is 512-byte aligned, which the uint8/bool atomics below rely on (they
// work on the aligned 32-bit word holding the byte, which then lies inside the allocation).
// Outputs must not overlap inputs (the host clones an input that shares storage with the
// output, as the CPU backend does).
//
// ---------------------------------------------------------------------------------------
// Entry points (T is the storage type of the dtype suffix, see ember_dtypes.cuh;
// IT is int32_t for _i32 and int64_t for _i64)
// ---------------------------------------------------------------------------------------
//   ember_index_gather_<dt>(T* out, const T* self, const int64_t* index,
//                           EmberIndexLayout layout, EmberIndexError* error)
//       all 8 dtypes. out[p] = self[p with dim replaced by index[p]] (torch.gather).
//
//   ember_index_scatter_<dt>(T* self, const int64_t* index, const T* src,
//                            EmberIndexLayout layout, EmberIndexError* error)
//       all 8 dtypes. self[p with dim replaced by index[p]] = src[p], in place (the host
//       clones self first for the out-of-place form). Of duplicate indices an unspecified
//       one wins (as PyTorch's CUDA scatter; the CPU backend's last-in-order wins).
//
//   ember_index_scatter_value_<dt>(T* self, const int64_t* index, uint64_t value_bits,
//                                  EmberIndexLayout layout, EmberIndexError* error)
//       all 8 dtypes. As scatter with src = one value; other_strides are ignored.
//       value_bits holds the element's bit pattern in its low sizeof(T) bytes (the host
//       converts the scalar to the dtype, with Indexing.scalarOf's overflow checks).
//
//   ember_index_scatter_add_<dt>(T* self, const int64_t* index, const T* src,
//                                EmberIndexLayout layout, EmberIndexError* error)
//       all 8 dtypes. self[p with dim replaced by index[p]] += src[p], in place, with atomics:
//       float/double/half/bfloat16 atomicAdd (each add rounds to the dtype, as the CPU
//       backend's element-by-element adds and PyTorch's CUDA kernel), int32/int64 wrapping
//       integer atomicAdd, uint8 a compare-and-swap on the aligned 32-bit word (wrapping
//       mod 256), bool an atomic OR (a bool sum is "either is true", as the CPU backend).
//       NONDETERMINISTIC for floating dtypes: the order in which duplicate indices
//       accumulate varies from run to run, so the rounding may too (PyTorch's CUDA
//       scatter_add is nondeterministic in the same way). Integer and bool results are exact.
//
//   ember_index_masked_fill_<dt>(T* self, const uint8_t* mask, uint64_t value_bits,
//                                EmberIndexLayout layout)
//       all 8 dtypes. self[p] = value wherever mask[p] != 0 (mask is a bool tensor, any
//       strides, 0 where broadcast). Only selected elements are written. index_strides,
//       dim_size and dim_stride are ignored. value_bits as in scatter_value.
//
//   ember_index_select_<dt>_<it>(T* out, const T* self, const IT* index, int64_t outer,
//                                int64_t dim_size, int64_t k, int64_t inner,
//                                EmberIndexError* error)
//       all 8 dtypes x {i32, i64}. out [outer, k, inner] = self [outer, dim_size, inner]
//       rows index[0..k) along the middle dim (torch.index_select). A 0-d self is the
//       host's case (PyTorch returns a clone).
//
//   ember_index_add_<dt>_<it>(T* self, const IT* index, const T* src, int64_t outer,
//                             int64_t dim_size, int64_t k, int64_t inner,
//                             EmberIndexError* error)
//       all 8 dtypes x {i32, i64}. self [outer, dim_size, inner] (in place; the host clones
//       for the out-of-place form) gains src [outer, k, inner]: self[o, index[j], i] +=
//       src[o, j, i] (torch.index_add, alpha 1). Same atomics and the same
//       NONDETERMINISM for floating dtypes as scatter_add.
//
//   ember_index_embedding_fwd_<dt>_<it>(T* out, const T* weight, const IT* indices,
//                                       int64_t n, int64_t num_embeddings, int64_t dim,
//                                       EmberIndexError* error)
//       f32 f64 f16 bf16 x {i32, i64}. out [n, dim] = weight [num_embeddings, dim] rows
//       indices[0..n) (the host flattens the indices and reshapes out to
//       indices.shape + [dim]). Equal to index_select with outer = 1.
//
//   ember_index_embedding_bwd_<dt>_<it>(A* grad_weight, const T* grad_out, const IT* indices,
//                                       int64_t n, int64_t num_embeddings, int64_t dim,
//                                       int64_t padding_idx, EmberIndexError* error)
//       f32 f64 f16 bf16 x {i32, i64}. The dense gradient of the weight:
//       grad_weight[indices[j], :] += grad_out[j, :] for every j with indices[j] !=
//       padding_idx. A is the accumulation type: float for f32, f16 and bf16, double for
//       f64. grad_weight [num_embeddings, dim] must be ZEROED by the host first (it is
//       accumulated into). For f32/f64 it is the gradient itself; for f16/bf16 it is a float
//       workspace that ember_index_embedding_bwd_finish_<dt> then rounds into the gradient
//       once (so many rows summing into one weight row do not lose precision).
//       padding_idx: the row that gets no gradient, already normalised by the host
//       (PyTorch's negative padding_idx + num_embeddings); pass -1 for none (any value
//       outside [0, num_embeddings) means none). Uses float/double atomicAdd:
//       NONDETERMINISTIC summation order for repeated indices (PyTorch's CUDA embedding
//       backward sorts to be deterministic; this kernel does not).
//
//   ember_index_embedding_bwd_finish_<dt>(T* grad_weight, const float* acc, int64_t n)
//       f16 bf16 only. grad_weight[i] = acc[i] rounded to nearest even, n elements.
//
//   ember_index_one_hot_i64(int64_t* out, const int64_t* classes, int64_t n,
//                           int64_t num_classes, EmberIndexError* error)
//       out [n, num_classes] (contiguous, int64; every element is written, no zero fill
//       needed): out[i, c] = classes[i] == c. classes is contiguous, n elements (flattened).
//       num_classes >= 1 (the host resolves -1 with ember_index_minmax_i64 first). A class
//       outside [0, num_classes) is reported with position i; the host then builds
//       PyTorch's message ("Class values must be non-negative." / "Class values must be
//       smaller than num_classes.") from the min/max it reads.
//
//   ember_index_minmax_i64(const int64_t* in, int64_t n, int64_t* result)
//       result[0] = min(result[0], min of in), result[1] = max(result[1], max of in) over n
//       contiguous int64s, by integer atomics (exact and deterministic). The host sets
//       result to {INT64_MAX, INT64_MIN} first (one_hot's class range). Its block size must
//       be a multiple of 32 (whole warps fold their values with shuffles first).
//
// ---------------------------------------------------------------------------------------
// Launch
// ---------------------------------------------------------------------------------------
// Every kernel is correct for any 1-D grid and any block size (minmax: any multiple of 32)
// (grid-stride loops over elements; no shared memory). Suggested: block 256, blocks = ceil(count / 256) capped at a
// few waves of the device's SMs, where count is prod(layout.sizes[:ndim]) for layout
// kernels, outer * k * inner for index_select/index_add, n * dim for embedding,
// n * num_classes for one_hot, n for minmax and the finish kernel. A count of 0 needs no
// launch. No workspace other than embedding_bwd's accumulator and the error record.
//
// Index arithmetic: each thread turns its first position and the grid stride into
// coordinates once (64-bit divisions); later positions are reached by adding the stride's
// coordinates with a carry, which needs only additions and compares.

#include "ember_common.cuh"
#include "ember_dtypes.cuh"
#include "ember_index_error.cuh"

#include <cstddef>

#define EMBER_INDEX_MAX_DIMS 8

struct EmberIndexLayout {
    int64_t sizes[EMBER_INDEX_MAX_DIMS];
    int64_t self_strides[EMBER_INDEX_MAX_DIMS];
    int64_t index_strides[EMBER_INDEX_MAX_DIMS];
    int64_t other_strides[EMBER_INDEX_MAX_DIMS];
    int64_t dim_size;
    int64_t dim_stride;
    int32_t ndim;
    int32_t reserved;
};

// The host builds this struct byte by byte; these pin the layout documented above.
static_assert(sizeof(EmberIndexLayout) == 280, "EmberIndexLayout must be 280 bytes");
static_assert(alignof(EmberIndexLayout) == 8, "EmberIndexLayout must be 8-byte aligned");
static_assert(offsetof(EmberIndexLayout, self_strides) == 64, "self_strides at 64");
static_assert(offsetof(EmberIndexLayout, index_strides) == 128, "index_strides at 128");
static_assert(offsetof(EmberIndexLayout, other_strides) == 192, "other_strides at 192");
static_assert(offsetof(EmberIndexLayout, dim_size) == 256, "dim_size at 256");
static_assert(offsetof(EmberIndexLayout, dim_stride) == 264, "dim_stride at 264");
static_assert(offsetof(EmberIndexLayout, ndim) == 272, "ndim at 272");

namespace ember::index {

// ----------------------------------------------------------------------------- iteration

// Calls visit(position, self_offset, index_offset, other_offset) for every position of the
// layout's iteration shape this thread owns (a grid-stride loop in row-major order).
template <typename Visit>
__device__ __forceinline__ void for_each_position(const EmberIndexLayout& layout, Visit visit) {
    const int ndim = layout.ndim;
    int64_t numel = 1;
#pragma unroll
    for (int d = 0; d < EMBER_INDEX_MAX_DIMS; ++d) {
        if (d < ndim) numel *= layout.sizes[d];
    }
    const int64_t first = global_thread_index();
    const int64_t step = grid_stride();
    // Also covers numel == 0, so no size below is zero when we divide by it.
    if (first >= numel) return;

    int64_t coord[EMBER_INDEX_MAX_DIMS];
    int64_t step_coord[EMBER_INDEX_MAX_DIMS];
    int64_t self_off = 0, index_off = 0, other_off = 0;
    int64_t rest = first, step_rest = step;
#pragma unroll
    for (int d = EMBER_INDEX_MAX_DIMS - 1; d >= 0; --d) {
        coord[d] = 0;
        step_coord[d] = 0;
        if (d < ndim) {
            const int64_t size = layout.sizes[d];
            coord[d] = rest % size;
            rest /= size;
            step_coord[d] = step_rest % size;
            step_rest /= size;
            self_off += coord[d] * layout.self_strides[d];
            index_off += coord[d] * layout.index_strides[d];
            other_off += coord[d] * layout.other_strides[d];
        }
    }

    for (int64_t p = first; p < numel; p += step) {
        visit(p, self_off, index_off, other_off);
        // coord += step_coord with a carry, innermost first. A carry out of the outermost
        // dim means p + step >= numel, so the loop ends before stale coordinates are used.
        int64_t carry = 0;
#pragma unroll
        for (int d = EMBER_INDEX_MAX_DIMS - 1; d >= 0; --d) {
            if (d < ndim) {
                const int64_t size = layout.sizes[d];
                int64_t next = coord[d] + step_coord[d] + carry;
                carry = next >= size ? 1 : 0;
                if (carry) next -= size;
                const int64_t moved = next - coord[d];
                self_off += moved * layout.self_strides[d];
                index_off += moved * layout.index_strides[d];
                other_off += moved * layout.other_strides[d];
                coord[d] = next;
            }
        }
    }
}

// The layout of an along kernel: iteration [outer, k, inner], self [outer, dim_size, inner]
// (the middle coordinate from the index), a 1-D index moving with the middle dim, and the
// other operand [outer, k, inner]; all contiguous.
__device__ __forceinline__ EmberIndexLayout along_layout(int64_t outer, int64_t dim_size, int64_t k, int64_t inner) {
    EmberIndexLayout l{};
    l.ndim = 3;
    l.sizes[0] = outer;
    l.sizes[1] = k;
    l.sizes[2] = inner;
    l.self_strides[0] = dim_size * inner;
    l.self_strides[1] = 0;
    l.self_strides[2] = 1;
    l.index_strides[0] = 0;
    l.index_strides[1] = 1;
    l.index_strides[2] = 0;
    l.other_strides[0] = k * inner;
    l.other_strides[1] = inner;
    l.other_strides[2] = 1;
    l.dim_size = dim_size;
    l.dim_stride = inner;
    return l;
}

// The error position of a bad index: the row-major position for layout kernels, the
// index's own offset (its position in the 1-D index) for along kernels.
__device__ __forceinline__ int64_t error_position(bool along, int64_t p, int64_t index_off) {
    return along ? index_off : p;
}

// An unsigned integer of T's width: bit-moving kernels copy these, never values.
template <int Bytes> struct bits_of;
template <> struct bits_of<1> { using type = uint8_t; };
template <> struct bits_of<2> { using type = uint16_t; };
template <> struct bits_of<4> { using type = uint32_t; };
template <> struct bits_of<8> { using type = uint64_t; };
template <typename T> using bits_t = typename bits_of<static_cast<int>(sizeof(T))>::type;

// ----------------------------------------------------------------------------- gather / scatter

template <typename U, typename IT>
__device__ __forceinline__ void gather(U* __restrict__ out, const U* __restrict__ self, const IT* __restrict__ index,
                                       const EmberIndexLayout& layout, EmberIndexError* error, bool along) {
    const int64_t dim_size = layout.dim_size;
    const int64_t dim_stride = layout.dim_stride;
    for_each_position(layout, [&](int64_t p, int64_t self_off, int64_t index_off, int64_t out_off) {
        const int64_t k = static_cast<int64_t>(index[index_off]);
        if (k >= 0 && k < dim_size) {
            out[out_off] = self[self_off + k * dim_stride];
        } else {
            report_bad_index(error, error_position(along, p, index_off));
        }
    });
}

// src == nullptr writes `value` everywhere instead.
template <typename U>
__device__ __forceinline__ void scatter(U* __restrict__ self, const int64_t* __restrict__ index,
                                        const U* __restrict__ src, U value, const EmberIndexLayout& layout,
                                        EmberIndexError* error) {
    const int64_t dim_size = layout.dim_size;
    const int64_t dim_stride = layout.dim_stride;
    for_each_position(layout, [&](int64_t p, int64_t self_off, int64_t index_off, int64_t src_off) {
        const int64_t k = index[index_off];
        if (k >= 0 && k < dim_size) {
            self[self_off + k * dim_stride] = src != nullptr ? src[src_off] : value;
        } else {
            report_bad_index(error, p);
        }
    });
}

// ----------------------------------------------------------------------------- atomic adds

// *address += value as one atomic read-modify-write, with the dtype's arithmetic.
__device__ __forceinline__ void atomic_accumulate(float* address, float value) { atomicAdd(address, value); }
__device__ __forceinline__ void atomic_accumulate(double* address, double value) { atomicAdd(address, value); }
__device__ __forceinline__ void atomic_accumulate(__half* address, __half value) { atomicAdd(address, value); }
__device__ __forceinline__ void atomic_accumulate(__nv_bfloat16* address, __nv_bfloat16 value) {
    atomicAdd(address, value);
}
__device__ __forceinline__ void atomic_accumulate(int32_t* address, int32_t value) { atomicAdd(address, value); }
__device__ __forceinline__ void atomic_accumulate(int64_t* address, int64_t value) {
    // Two's complement: an unsigned add wraps exactly as the signed sum does.
    atomicAdd(reinterpret_cast<unsigned long long*>(address), static_cast<unsigned long long>(value));
}

// The aligned 32-bit word holding a byte, and the byte's bit shift within it (little-endian).
__device__ __forceinline__ unsigned int* word_of(uint8_t* address, unsigned int* shift) {
    const auto a = reinterpret_cast<uintptr_t>(address);
    *shift = static_cast<unsigned int>(a & 3) * 8;
    return reinterpret_cast<unsigned int*>(a & ~static_cast<uintptr_t>(3));
}

__device__ __forceinline__ void atomic_accumulate(uint8_t* address, uint8_t value) {
    if (value == 0) return;
    unsigned int shift;
    unsigned int* word = word_of(address, &shift);
    unsigned int old = *word;
    unsigned int assumed;
    do {
        assumed = old;
        const unsigned int sum = (((assumed >> shift) & 0xFFu) + value) & 0xFFu;
        old = atomicCAS(word, assumed, (assumed & ~(0xFFu << shift)) | (sum << shift));
    } while (old != assumed);
}

__device__ __forceinline__ void atomic_accumulate(bool* address, bool value) {
    if (!value) return;
    unsigned int shift;
    unsigned int* word = word_of(reinterpret_cast<uint8_t*>(address), &shift);
    atomicOr(word, 1u << shift);
}

// self[...] += src[...] at the layout's positions, with atomics.
template <typename T, typename IT>
__device__ __forceinline__ void scatter_add(T* __restrict__ self, const IT* __restrict__ index,
                                            const T* __restrict__ src, const EmberIndexLayout& layout,
                                            EmberIndexError* error, bool along) {
    const int64_t dim_size = layout.dim_size;
    const int64_t dim_stride = layout.dim_stride;
    for_each_position(layout, [&](int64_t p, int64_t self_off, int64_t index_off, int64_t src_off) {
        const int64_t k = static_cast<int64_t>(index[index_off]);
        if (k >= 0 && k < dim_size) {
            atomic_accumulate(self + self_off + k * dim_stride, src[src_off]);
        } else {
            report_bad_index(error, error_position(along, p, index_off));
        }
    });
}

// ----------------------------------------------------------------------------- masked_fill

template <typename U>
__device__ __forceinline__ void masked_fill(U* __restrict__ self, const uint8_t* __restrict__ mask, U value,
                                            const EmberIndexLayout& layout) {
    for_each_position(layout, [&](int64_t, int64_t self_off, int64_t, int64_t mask_off) {
        if (mask[mask_off] != 0) self[self_off] = value;
    });
}

// ----------------------------------------------------------------------------- embedding backward

template <typename T, typename IT>
__device__ __forceinline__ void embedding_backward(accumulate_t<T>* __restrict__ grad_weight,
                                                   const T* __restrict__ grad_out, const IT* __restrict__ indices,
                                                   int64_t n, int64_t num_embeddings, int64_t dim,
                                                   int64_t padding_idx, EmberIndexError* error) {
    const EmberIndexLayout layout = along_layout(1, num_embeddings, n, dim);
    for_each_position(layout, [&](int64_t, int64_t self_off, int64_t index_off, int64_t src_off) {
        const int64_t k = static_cast<int64_t>(indices[index_off]);
        if (k >= 0 && k < num_embeddings) {
            if (k != padding_idx) {
                atomicAdd(grad_weight + self_off + k * dim,
                          static_cast<accumulate_t<T>>(load_as_compute(grad_out[src_off])));
            }
        } else {
            report_bad_index(error, index_off);
        }
    });
}

// ----------------------------------------------------------------------------- one_hot / minmax

__device__ __forceinline__ void one_hot(int64_t* __restrict__ out, const int64_t* __restrict__ classes, int64_t n,
                                        int64_t num_classes, EmberIndexError* error) {
    if (num_classes <= 0) return;
    const int64_t total = n * num_classes;
    for (int64_t e = global_thread_index(); e < total; e += grid_stride()) {
        const int64_t row = e / num_classes;
        const int64_t c = e - row * num_classes;
        const int64_t v = classes[row];
        out[e] = v == c ? 1 : 0;
        if (c == 0 && (v < 0 || v >= num_classes)) report_bad_index(error, row);
    }
}

__device__ __forceinline__ void minmax(const int64_t* __restrict__ in, int64_t n, int64_t* result) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
        const int64_t v = in[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    // Fold the warp's values first, so only one lane per warp touches the result.
#pragma unroll
    for (int width = 16; width > 0; width /= 2) {
        const int64_t other_lo = __shfl_xor_sync(0xFFFFFFFFu, lo, width);
        const int64_t other_hi = __shfl_xor_sync(0xFFFFFFFFu, hi, width);
        lo = other_lo < lo ? other_lo : lo;
        hi = other_hi > hi ? other_hi : hi;
    }
    if ((threadIdx.x & 31) == 0) {
        if (lo != INT64_MAX) atomicMin(reinterpret_cast<long long*>(result), static_cast<long long>(lo));
        if (hi != INT64_MIN) atomicMax(reinterpret_cast<long long*>(result + 1), static_cast<long long>(hi));
    }
}

}  // namespace ember::index

// ----------------------------------------------------------------------------- entry points

using ember::index::along_layout;
using ember::index::bits_t;

// gather, scatter, scatter_value, scatter_add, masked_fill: every dtype.
#define EMBER_INDEX_LAYOUT_KERNELS(SUFFIX, T)                                                                       \
    extern "C" __global__ void ember_index_gather_##SUFFIX(T* out, const T* self, const int64_t* index,            \
                                                           EmberIndexLayout layout, EmberIndexError* error) {     \
        ember::index::gather(reinterpret_cast<bits_t<T>*>(out), reinterpret_cast<const bits_t<T>*>(self), index,   \
                             layout, error, false);                                                                \
    }                                                                                                               \
    extern "C" __global__ void ember_index_scatter_##SUFFIX(T* self, const int64_t* index, const T* src,           \
                                                            EmberIndexLayout layout, EmberIndexError* error) {    \
        ember::index::scatter(reinterpret_cast<bits_t<T>*>(self), index, reinterpret_cast<const bits_t<T>*>(src),  \
                              bits_t<T>(0), layout, error);                                                        \
    }                                                                                                               \
    extern "C" __global__ void ember_index_scatter_value_##SUFFIX(T* self, const int64_t* index, uint64_t value_bits, \
                                                                  EmberIndexLayout layout, EmberIndexError* error) { \
        ember::index::scatter(reinterpret_cast<bits_t<T>*>(self), index, static_cast<const bits_t<T>*>(nullptr),   \
                              static_cast<bits_t<T>>(value_bits), layout, error);                                  \
    }                                                                                                               \
    extern "C" __global__ void ember_index_scatter_add_##SUFFIX(T* self, const int64_t* index, const T* src,       \
                                                                EmberIndexLayout layout, EmberIndexError* error) { \
        ember::index::scatter_add(self, index, src, layout, error, false);                                        \
    }                                                                                                               \
    extern "C" __global__ void ember_index_masked_fill_##SUFFIX(T* self, const uint8_t* mask, uint64_t value_bits, \
                                                                EmberIndexLayout layout) {                         \
        ember::index::masked_fill(reinterpret_cast<bits_t<T>*>(self), mask, static_cast<bits_t<T>>(value_bits),   \
                                  layout);                                                                         \
    }

EMBER_FOR_EACH_DTYPE(EMBER_INDEX_LAYOUT_KERNELS)

// index_select and index_add: every dtype, int32 and int64 indices.
#define EMBER_INDEX_ALONG_KERNELS(SUFFIX, T, ISUFFIX, IT)                                                           \
    extern "C" __global__ void ember_index_select_##SUFFIX##_##ISUFFIX(                                            \
        T* out, const T* self, const IT* index, int64_t outer, int64_t dim_size, int64_t k, int64_t inner,         \
        EmberIndexError* error) {                                                                                   \
        ember::index::gather(reinterpret_cast<bits_t<T>*>(out), reinterpret_cast<const bits_t<T>*>(self), index,   \
                             along_layout(outer, dim_size, k, inner), error, true);                                \
    }                                                                                                               \
    extern "C" __global__ void ember_index_add_##SUFFIX##_##ISUFFIX(T* self, const IT* index, const T* src,       \
                                                                    int64_t outer, int64_t dim_size, int64_t k,    \
                                                                    int64_t inner, EmberIndexError* error) {       \
        ember::index::scatter_add(self, index, src, along_layout(outer, dim_size, k, inner), error, true);        \
    }

#define EMBER_INDEX_ALONG_BOTH(SUFFIX, T) EMBER_INDEX_ALONG_KERNELS(SUFFIX, T, i32, int32_t) \
    EMBER_INDEX_ALONG_KERNELS(SUFFIX, T, i64, int64_t)

EMBER_FOR_EACH_DTYPE(EMBER_INDEX_ALONG_BOTH)

// embedding forward and backward: floating dtypes, int32 and int64 indices.
#define EMBER_INDEX_EMBEDDING_KERNELS(SUFFIX, T, ISUFFIX, IT)                                                       \
    extern "C" __global__ void ember_index_embedding_fwd_##SUFFIX##_##ISUFFIX(                                     \
        T* out, const T* weight, const IT* indices, int64_t n, int64_t num_embeddings, int64_t dim,                \
        EmberIndexError* error) {                                                                                   \
        ember::index::gather(reinterpret_cast<bits_t<T>*>(out), reinterpret_cast<const bits_t<T>*>(weight),        \
                             indices, along_layout(1, num_embeddings, n, dim), error, true);                      \
    }                                                                                                               \
    extern "C" __global__ void ember_index_embedding_bwd_##SUFFIX##_##ISUFFIX(                                     \
        ember::accumulate_t<T>* grad_weight, const T* grad_out, const IT* indices, int64_t n,                      \
        int64_t num_embeddings, int64_t dim, int64_t padding_idx, EmberIndexError* error) {                        \
        ember::index::embedding_backward(grad_weight, grad_out, indices, n, num_embeddings, dim, padding_idx,     \
                                         error);                                                                   \
    }

#define EMBER_INDEX_EMBEDDING_BOTH(SUFFIX, T) EMBER_INDEX_EMBEDDING_KERNELS(SUFFIX, T, i32, int32_t) \
    EMBER_INDEX_EMBEDDING_KERNELS(SUFFIX, T, i64, int64_t)

EMBER_FOR_EACH_FLOATING(EMBER_INDEX_EMBEDDING_BOTH)

extern "C" __global__ void ember_index_embedding_bwd_finish_f16(__half* grad_weight, const float* acc, int64_t n) {
    for (int64_t i = ember::global_thread_index(); i < n; i += ember::grid_stride()) {
        grad_weight[i] = __float2half_rn(acc[i]);
    }
}

extern "C" __global__ void ember_index_embedding_bwd_finish_bf16(__nv_bfloat16* grad_weight, const float* acc,
                                                                 int64_t n) {
    for (int64_t i = ember::global_thread_index(); i < n; i += ember::grid_stride()) {
        grad_weight[i] = __float2bfloat16_rn(acc[i]);
    }
}

extern "C" __global__ void ember_index_one_hot_i64(int64_t* out, const int64_t* classes, int64_t n,
                                                   int64_t num_classes, EmberIndexError* error) {
    ember::index::one_hot(out, classes, n, num_classes, error);
}

extern "C" __global__ void ember_index_minmax_i64(const int64_t* in, int64_t n, int64_t* result) {
    ember::index::minmax(in, n, result);
}

// Helpers shared by Ember's kernels. Every .cu file in this folder is compiled on its
// own into a fatbin (see build-kernels.sh), so this header holds only inline code.
#pragma once

#include <cstdint>

namespace ember {

// Index of this thread in a 1-D grid. Computed in 64 bits: a grid-stride loop over
// more than 2^31 elements must not wrap, and blockIdx.x * blockDim.x alone is 32-bit.
__device__ __forceinline__ int64_t global_thread_index() {
    return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// Total number of threads in a 1-D grid: the step of a grid-stride loop.
__device__ __forceinline__ int64_t grid_stride() {
    return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace ember

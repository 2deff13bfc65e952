// The device-side report of an out-of-range index, shared by index.cu and loss.cu.
//
// A kernel that reads indices from a tensor (gather, scatter, index_select, embedding,
// one_hot, class targets of a loss) checks each one before it touches memory. A bad index is
// skipped (nothing is read or written through it) and recorded here, so the host can throw
// PyTorch's message after the kernel ran. The record is 16 bytes, 8-byte aligned, in device
// memory the host allocates:
//
//   offset 0  int32 flag       0 = no error; kernels set it to 1 on any bad index
//   offset 4  int32 reserved   kernels never touch it
//   offset 8  int64 position   the smallest position (as each kernel defines it, always >= 0)
//                              of a bad index seen; kernels lower it with an atomic min
//
// The host initialises it to {flag 0, reserved 0, position INT64_MAX} (bytes 00 00 00 00
// 00 00 00 00 ff ff ff ff ff ff ff 7f) before the first launch that may report into it.
// Kernels only write it when they find a bad index, so one record can serve any number of
// launches until an error is seen; after reading an error back the host resets it. The
// position is the smallest one, not the first one a thread happened to find, so the report
// is deterministic: it names the same index as a sequential check in row-major order (which
// is what the CPU backend reports). The host reads the offending value from the index tensor
// at that position (one small device-to-host copy, on the error path only).
//
// A null pointer is allowed wherever a kernel takes an EmberIndexError*: bad indices are
// then still skipped, just not reported.
#pragma once

#include <cstddef>
#include <cstdint>

struct EmberIndexError {
    int32_t flag;
    int32_t reserved;
    int64_t position;
};

static_assert(sizeof(EmberIndexError) == 16, "EmberIndexError must be 16 bytes");
static_assert(alignof(EmberIndexError) == 8, "EmberIndexError must be 8-byte aligned");
static_assert(offsetof(EmberIndexError, position) == 8, "position at 8");

namespace ember {

// Records a bad index at `position` (>= 0). Any number of threads may call it at once.
__device__ __forceinline__ void report_bad_index(EmberIndexError* error, int64_t position) {
    if (error == nullptr) return;
    atomicExch(&error->flag, 1);
    atomicMin(reinterpret_cast<unsigned long long*>(&error->position), static_cast<unsigned long long>(position));
}

}  // namespace ember

// Fused multi-tensor optimizer steps: one launch updates every parameter of an optimizer
// (all its param groups) with SGD or Adam/AdamW, following the CPU optimizers in
// nn/src/main/java/dev/ember/nn/optim/ (SGD.java, Adam.java, AdamW.java), which follow
// torch.optim's single-tensor updates.
//
// ---------------------------------------------------------------------------------------
// The update rules (per element; C is the compute type: double for f64, float otherwise)
// ---------------------------------------------------------------------------------------
// SGD (torch.optim.SGD):
//     g = grad, negated if maximize
//     if weight_decay != 0:  g = g + weight_decay * param
//     if momentum != 0:
//         buf = g                                          on the tensor's first step (flag)
//         buf = momentum * buf + (1 - dampening) * g       otherwise
//         g = g + momentum * buf  if nesterov,  else  g = buf
//     param = param - lr * g
// Adam / AdamW (torch.optim.Adam / AdamW):
//     g = grad, negated if maximize
//     AdamW (decoupled flag):  if lr * weight_decay != 0:  param = param * (1 - lr * weight_decay)
//     Adam:                    if weight_decay != 0:       g = g + weight_decay * param
//     exp_avg    = beta1 * exp_avg    + (1 - beta1) * g
//     exp_avg_sq = beta2 * exp_avg_sq + ((1 - beta2) * g) * g
//     v = exp_avg_sq, or with amsgrad: max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq)
//         (NaN propagates, as torch.maximum) and v = max_exp_avg_sq
//     denom = sqrt(v) / bias_correction2_sqrt + eps
//     param = param + (-step_size * exp_avg) / denom
// where the host passes step_size = lr / (1 - beta1^step) and bias_correction2_sqrt =
// sqrt(1 - beta2^step), computed in double exactly as Adam.applyMoments does, with `step`
// the tensor's step count AFTER its increment (1 on the first step; the host keeps and
// increments the per-tensor "step" state). The scalar factors
// (1 - dampening, 1 - beta1, 1 - beta2, 1 - lr * weight_decay) are formed in double and then
// converted to C, like the CPU's scalar arguments. Each state buffer is read once and
// written once per step; for float16/bfloat16 tensors the math runs in float32 and only the
// stored values (param, momentum buffer, exp_avg, exp_avg_sq, max_exp_avg_sq) are rounded to
// the dtype (the update uses the unrounded float values, as PyTorch's fused CUDA Adam).
// Results are deterministic (no atomics, no reductions). nvcc may fuse a * b + c into one
// FMA, so float64 results can differ from the CPU's in the last bit or two (far below the
// 1e-12 the CPU matches torch to); the order of operations is the CPU's.
//
// ---------------------------------------------------------------------------------------
// The tensor table (one device buffer, built on the host and copied with one
// host-to-device copy; 8-byte aligned, records back to back, no header)
// ---------------------------------------------------------------------------------------
// EmberSgdTensor, 80 bytes per tensor:
//   offset  0  u64    param            device address of the parameter (numel elements of T)
//   offset  8  u64    grad             its gradient (numel elements of T; only read)
//   offset 16  u64    momentum_buffer  state "momentum_buffer" (numel elements of T), read
//                                      and written only when momentum != 0 (then it must
//                                      be allocated; on the first step its old contents are
//                                      ignored, so it need not be initialised); else 0
//   offset 24  int64  numel            number of elements (0 allowed)
//   offset 32  int64  first_chunk      index of this tensor's first chunk: the sum of
//                                      ceil(numel / chunk_elems) over the records before it
//   offset 40  f64    lr               (the group's options, so one launch covers every group)
//   offset 48  f64    momentum
//   offset 56  f64    dampening
//   offset 64  f64    weight_decay
//   offset 72  int32  flags            bit 0 nesterov, bit 1 maximize, bit 2 first step:
//                                      initialise the momentum buffer to g (set it exactly
//                                      when the CPU's state has no "momentum_buffer" yet)
//   offset 76  int32  reserved         must be 0
//
// EmberAdamTensor, 120 bytes per tensor:
//   offset   0  u64    param           device address of the parameter (numel elements of T)
//   offset   8  u64    grad            its gradient (only read)
//   offset  16  u64    exp_avg         state (numel elements of T; zero before the first step)
//   offset  24  u64    exp_avg_sq      state (numel elements of T; zero before the first step)
//   offset  32  u64    max_exp_avg_sq  state, amsgrad only (zero before the first step); else 0
//   offset  40  int64  numel
//   offset  48  int64  first_chunk     as for SGD
//   offset  56  f64    lr
//   offset  64  f64    beta1
//   offset  72  f64    beta2
//   offset  80  f64    eps
//   offset  88  f64    weight_decay
//   offset  96  f64    step_size              lr / (1 - beta1^step)
//   offset 104  f64    bias_correction2_sqrt  sqrt(1 - beta2^step)
//   offset 112  int32  flags           bit 0 decoupled weight decay (AdamW), bit 1 maximize,
//                                      bit 2 amsgrad
//   offset 116  int32  reserved        must be 0
//
// All tensors of one launch have the dtype of the kernel's suffix (param, grad and state
// alike) and are contiguous, aligned to the element size, and mutually disjoint (a param
// must not alias its grad or a state). Tensors without a gradient are left out of the table.
//
// ---------------------------------------------------------------------------------------
// Entry points (T = float, double, __half, __nv_bfloat16 for f32, f64, f16, bf16)
// ---------------------------------------------------------------------------------------
//   ember_optim_sgd_<dt>(const EmberSgdTensor* tensors, int32_t num_tensors,
//                        int64_t total_chunks, int64_t chunk_elems)
//   ember_optim_adam_<dt>(const EmberAdamTensor* tensors, int32_t num_tensors,
//                         int64_t total_chunks, int64_t chunk_elems)
//       tensors: the device table above (num_tensors >= 1 records); chunk_elems > 0: the
//       chunk size the host used for first_chunk; total_chunks: the sum of
//       ceil(numel / chunk_elems) over all records. Chunk c belongs to the last record
//       with first_chunk <= c (found by binary search), and covers its elements
//       [(c - first_chunk) * chunk_elems, min(numel, (c - first_chunk + 1) * chunk_elems)).
//
// Launch: 1-D grid of total_chunks blocks (fewer also works: blocks loop over chunks with a
// grid stride), any block size (256 suggested), no shared memory, no workspace. Suggested
// chunk_elems: 16384 (64 elements per thread of a 256-thread block; small tensors take one
// chunk each). The table must stay alive until the launch has run (stream order).

#include "ember_common.cuh"
#include "ember_dtypes.cuh"

#include <cstddef>

struct EmberSgdTensor {
    void* param;
    const void* grad;
    void* momentum_buffer;
    int64_t numel;
    int64_t first_chunk;
    double lr;
    double momentum;
    double dampening;
    double weight_decay;
    int32_t flags;
    int32_t reserved;
};

struct EmberAdamTensor {
    void* param;
    const void* grad;
    void* exp_avg;
    void* exp_avg_sq;
    void* max_exp_avg_sq;
    int64_t numel;
    int64_t first_chunk;
    double lr;
    double beta1;
    double beta2;
    double eps;
    double weight_decay;
    double step_size;
    double bias_correction2_sqrt;
    int32_t flags;
    int32_t reserved;
};

// The host builds these records byte by byte; these pin the layouts documented above.
static_assert(sizeof(void*) == 8, "device pointers are 64-bit");
static_assert(sizeof(EmberSgdTensor) == 80 && alignof(EmberSgdTensor) == 8, "EmberSgdTensor: 80 bytes, 8-aligned");
static_assert(offsetof(EmberSgdTensor, grad) == 8, "grad at 8");
static_assert(offsetof(EmberSgdTensor, momentum_buffer) == 16, "momentum_buffer at 16");
static_assert(offsetof(EmberSgdTensor, numel) == 24, "numel at 24");
static_assert(offsetof(EmberSgdTensor, first_chunk) == 32, "first_chunk at 32");
static_assert(offsetof(EmberSgdTensor, lr) == 40, "lr at 40");
static_assert(offsetof(EmberSgdTensor, momentum) == 48, "momentum at 48");
static_assert(offsetof(EmberSgdTensor, dampening) == 56, "dampening at 56");
static_assert(offsetof(EmberSgdTensor, weight_decay) == 64, "weight_decay at 64");
static_assert(offsetof(EmberSgdTensor, flags) == 72, "flags at 72");

static_assert(sizeof(EmberAdamTensor) == 120 && alignof(EmberAdamTensor) == 8, "EmberAdamTensor: 120 bytes, 8-aligned");
static_assert(offsetof(EmberAdamTensor, grad) == 8, "grad at 8");
static_assert(offsetof(EmberAdamTensor, exp_avg) == 16, "exp_avg at 16");
static_assert(offsetof(EmberAdamTensor, exp_avg_sq) == 24, "exp_avg_sq at 24");
static_assert(offsetof(EmberAdamTensor, max_exp_avg_sq) == 32, "max_exp_avg_sq at 32");
static_assert(offsetof(EmberAdamTensor, numel) == 40, "numel at 40");
static_assert(offsetof(EmberAdamTensor, first_chunk) == 48, "first_chunk at 48");
static_assert(offsetof(EmberAdamTensor, lr) == 56, "lr at 56");
static_assert(offsetof(EmberAdamTensor, beta1) == 64, "beta1 at 64");
static_assert(offsetof(EmberAdamTensor, beta2) == 72, "beta2 at 72");
static_assert(offsetof(EmberAdamTensor, eps) == 80, "eps at 80");
static_assert(offsetof(EmberAdamTensor, weight_decay) == 88, "weight_decay at 88");
static_assert(offsetof(EmberAdamTensor, step_size) == 96, "step_size at 96");
static_assert(offsetof(EmberAdamTensor, bias_correction2_sqrt) == 104, "bias_correction2_sqrt at 104");
static_assert(offsetof(EmberAdamTensor, flags) == 112, "flags at 112");

#define EMBER_SGD_NESTEROV 1
#define EMBER_SGD_MAXIMIZE 2
#define EMBER_SGD_FIRST_STEP 4
#define EMBER_ADAM_DECOUPLED 1
#define EMBER_ADAM_MAXIMIZE 2
#define EMBER_ADAM_AMSGRAD 4

namespace ember::optim {

// Elements each thread keeps in flight: all loads of a group are issued before any math,
// so a thread waits for memory once per group rather than once per element. Two for double,
// whose division and square root need many registers.
template <typename T>
constexpr int kUnroll = sizeof(T) == 8 ? 2 : 4;

// The record owning chunk c: the last one with first_chunk <= c.
template <typename Record>
__device__ __forceinline__ const Record& record_of(const Record* __restrict__ tensors, int32_t num_tensors, int64_t c) {
    int32_t lo = 0, hi = num_tensors - 1;
    while (lo < hi) {
        const int32_t mid = lo + (hi - lo + 1) / 2;
        if (tensors[mid].first_chunk <= c) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return tensors[lo];
}

// Runs step(record, first, stride, end) once per chunk this block owns: the thread's
// elements of the chunk are first, first + stride, ... below end.
template <typename Record, typename Step>
__device__ __forceinline__ void for_each_chunk(const Record* __restrict__ tensors, int32_t num_tensors,
                                               int64_t total_chunks, int64_t chunk_elems, Step step) {
    for (int64_t c = blockIdx.x; c < total_chunks; c += gridDim.x) {
        const Record& r = record_of(tensors, num_tensors, c);
        const int64_t start = (c - r.first_chunk) * chunk_elems;
        const int64_t stop = start + chunk_elems;
        const int64_t end = r.numel < stop ? r.numel : stop;
        step(r, start + static_cast<int64_t>(threadIdx.x), static_cast<int64_t>(blockDim.x), end);
    }
}

template <typename T>
__device__ __forceinline__ void sgd(const EmberSgdTensor* __restrict__ tensors, int32_t num_tensors,
                                    int64_t total_chunks, int64_t chunk_elems) {
    using C = compute_t<T>;
    for_each_chunk(tensors, num_tensors, total_chunks, chunk_elems,
                   [&](const EmberSgdTensor& r, int64_t first_index, int64_t stride, int64_t end) {
        T* __restrict__ param = static_cast<T*>(r.param);
        const T* __restrict__ grad = static_cast<const T*>(r.grad);
        T* __restrict__ buf = static_cast<T*>(r.momentum_buffer);
        const double momentum = r.momentum;
        const double weight_decay = r.weight_decay;
        const bool nesterov = (r.flags & EMBER_SGD_NESTEROV) != 0;
        const bool maximize = (r.flags & EMBER_SGD_MAXIMIZE) != 0;
        const bool first = (r.flags & EMBER_SGD_FIRST_STEP) != 0;
        const C wd = static_cast<C>(weight_decay);
        const C mom = static_cast<C>(momentum);
        const C keep = static_cast<C>(1.0 - r.dampening);
        const C neg_lr = static_cast<C>(-r.lr);

        for (int64_t base = first_index; base < end; base += kUnroll<T> * stride) {
            C p[kUnroll<T>], g[kUnroll<T>], b[kUnroll<T>];
#pragma unroll
            for (int j = 0; j < kUnroll<T>; ++j) {
                const int64_t i = base + j * stride;
                if (i < end) {
                    p[j] = load_as_compute(param[i]);
                    g[j] = load_as_compute(grad[i]);
                    b[j] = momentum != 0.0 && !first ? load_as_compute(buf[i]) : C(0);
                }
            }
#pragma unroll
            for (int j = 0; j < kUnroll<T>; ++j) {
                const int64_t i = base + j * stride;
                if (i < end) {
                    C d = maximize ? -g[j] : g[j];
                    if (weight_decay != 0.0) d = d + wd * p[j];
                    if (momentum != 0.0) {
                        const C m = first ? d : b[j] * mom + keep * d;
                        buf[i] = store_from<T>(m);
                        d = nesterov ? d + mom * m : m;
                    }
                    param[i] = store_from<T>(p[j] + neg_lr * d);
                }
            }
        }
    });
}

template <typename T>
__device__ __forceinline__ void adam(const EmberAdamTensor* __restrict__ tensors, int32_t num_tensors,
                                     int64_t total_chunks, int64_t chunk_elems) {
    using C = compute_t<T>;
    for_each_chunk(tensors, num_tensors, total_chunks, chunk_elems,
                   [&](const EmberAdamTensor& r, int64_t first_index, int64_t stride, int64_t end) {
        T* __restrict__ param = static_cast<T*>(r.param);
        const T* __restrict__ grad = static_cast<const T*>(r.grad);
        T* __restrict__ exp_avg = static_cast<T*>(r.exp_avg);
        T* __restrict__ exp_avg_sq = static_cast<T*>(r.exp_avg_sq);
        T* __restrict__ max_sq = static_cast<T*>(r.max_exp_avg_sq);
        const bool decoupled = (r.flags & EMBER_ADAM_DECOUPLED) != 0;
        const bool maximize = (r.flags & EMBER_ADAM_MAXIMIZE) != 0;
        const bool amsgrad = (r.flags & EMBER_ADAM_AMSGRAD) != 0;
        const double weight_decay = r.weight_decay;
        const double decay = r.lr * weight_decay;  // AdamW's, formed in double as the CPU does
        const bool l2 = !decoupled && weight_decay != 0.0;
        const bool shrink = decoupled && decay != 0.0;
        const C wd = static_cast<C>(weight_decay);
        const C shrink_by = static_cast<C>(1.0 - decay);
        const C beta1 = static_cast<C>(r.beta1);
        const C beta2 = static_cast<C>(r.beta2);
        const C one_minus_beta1 = static_cast<C>(1.0 - r.beta1);
        const C one_minus_beta2 = static_cast<C>(1.0 - r.beta2);
        const C eps = static_cast<C>(r.eps);
        const C neg_step_size = static_cast<C>(-r.step_size);
        const C bias_correction2_sqrt = static_cast<C>(r.bias_correction2_sqrt);

        for (int64_t base = first_index; base < end; base += kUnroll<T> * stride) {
            C p[kUnroll<T>], g[kUnroll<T>], m[kUnroll<T>], v[kUnroll<T>], mx[kUnroll<T>];
#pragma unroll
            for (int j = 0; j < kUnroll<T>; ++j) {
                const int64_t i = base + j * stride;
                if (i < end) {
                    p[j] = load_as_compute(param[i]);
                    g[j] = load_as_compute(grad[i]);
                    m[j] = load_as_compute(exp_avg[i]);
                    v[j] = load_as_compute(exp_avg_sq[i]);
                    mx[j] = amsgrad ? load_as_compute(max_sq[i]) : C(0);
                }
            }
#pragma unroll
            for (int j = 0; j < kUnroll<T>; ++j) {
                const int64_t i = base + j * stride;
                if (i < end) {
                    C d = maximize ? -g[j] : g[j];
                    C w = p[j];
                    if (shrink) w = w * shrink_by;
                    if (l2) d = d + wd * w;
                    const C mj = m[j] * beta1 + one_minus_beta1 * d;
                    const C vj = v[j] * beta2 + (one_minus_beta2 * d) * d;
                    exp_avg[i] = store_from<T>(mj);
                    exp_avg_sq[i] = store_from<T>(vj);
                    C denom_of = vj;
                    if (amsgrad) {
                        // torch.maximum: NaN if either is NaN.
                        const C top = (mx[j] > vj || mx[j] != mx[j]) ? mx[j] : vj;
                        max_sq[i] = store_from<T>(top);
                        denom_of = top;
                    }
                    const C denom = sqrt(denom_of) / bias_correction2_sqrt + eps;
                    param[i] = store_from<T>(w + (neg_step_size * mj) / denom);
                }
            }
        }
    });
}

}  // namespace ember::optim

// ----------------------------------------------------------------------------- entry points

#define EMBER_OPTIM_KERNELS(SUFFIX, T)                                                                            \
    extern "C" __global__ void ember_optim_sgd_##SUFFIX(const EmberSgdTensor* tensors, int32_t num_tensors,       \
                                                        int64_t total_chunks, int64_t chunk_elems) {             \
        ember::optim::sgd<T>(tensors, num_tensors, total_chunks, chunk_elems);                                    \
    }                                                                                                             \
    extern "C" __global__ void ember_optim_adam_##SUFFIX(const EmberAdamTensor* tensors, int32_t num_tensors,     \
                                                         int64_t total_chunks, int64_t chunk_elems) {            \
        ember::optim::adam<T>(tensors, num_tensors, total_chunks, chunk_elems);                                   \
    }

EMBER_FOR_EACH_FLOATING(EMBER_OPTIM_KERNELS)

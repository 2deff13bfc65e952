package dev.ember.tensor;

import dev.ember.ffi.Cudnn;
import dev.ember.memory.Device;
import dev.ember.tensor.cuda.CudnnDescriptors;

/**
 * Batch normalisation on CUDA through cuDNN's spatial mode (statistics per channel), for
 * {@link BatchNormKernels} once it has checked the arguments. An [N, C, ...] input of any rank
 * is described as [N, C, S, 1].
 *
 * <p>cuDNN's per-channel tensors (scale, bias, running and saved statistics) are float32 for
 * float32, float16 and bfloat16 data and float64 for float64 data; Ember's are converted to
 * that where they differ, and missing weight and bias are ones and zeros. Training folds the
 * batch statistics into the running ones as PyTorch does: cuDNN's exponential average factor
 * is the momentum, and the variance it folds in is the unbiased one. cuDNN updates the running
 * tensors in place when they are already contiguous in the parameter dtype; otherwise a
 * converted copy is updated and copied back. The saved mean and inverse standard deviation
 * stay in the parameter dtype.
 */
final class CudaBatchNorm {
    private CudaBatchNorm() {}

    /** Training-mode forward into {@code out} (contiguous, of input's shape and dtype t). */
    static BatchNormKernels.BatchNormResult training(Tensor input, DType t, Tensor weight, Tensor bias, Tensor runningMean,
            Tensor runningVar, double momentum, double eps, Tensor out) {
        Device d = input.device();
        DType pt = CudnnDescriptors.parameterType(t);
        int[] dims = CudnnDescriptors.perChannel(input.shape);
        int c = dims[1];
        Tensor saveMean = Tensor.empty(d, pt, c), saveInvstd = Tensor.empty(d, pt, c);
        // cuDNN updates both running statistics or neither: a missing one gets a throwaway stand-in
        boolean running = runningMean != null || runningVar != null;
        Tensor mean = running ? updatable(runningMean, pt, d, c) : null, var = running ? updatable(runningVar, pt, d, c) : null;
        try (Tensor x = input.contiguousAs(t); Tensor w = parameter(weight, pt, 1, d, c); Tensor b = parameter(bias, pt, 0, d, c)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long xd = desc.tensor(t, dims), pd = desc.batchNormParameters(xd);
                    Cudnn.batchNormalizationForwardTraining(handle, Cudnn.BATCHNORM_SPATIAL, 1, 0, xd, CudnnCalls.address(x),
                            xd, CudnnCalls.address(out), pd, CudnnCalls.address(w), CudnnCalls.address(b), momentum,
                            CudnnCalls.address(mean), CudnnCalls.address(var), eps, CudnnCalls.address(saveMean),
                            CudnnCalls.address(saveInvstd));
                }
            });
        } finally {
            if (running) {
                settle(runningMean, mean);
                settle(runningVar, var);
            }
        }
        return new BatchNormKernels.BatchNormResult(out, saveMean, saveInvstd);
    }

    /** Evaluation-mode forward into {@code out}, normalising with the running statistics. */
    static Tensor inference(Tensor input, DType t, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
            double eps, Tensor out) {
        Device d = input.device();
        DType pt = CudnnDescriptors.parameterType(t);
        int[] dims = CudnnDescriptors.perChannel(input.shape);
        int c = dims[1];
        try (Tensor x = input.contiguousAs(t); Tensor w = parameter(weight, pt, 1, d, c); Tensor b = parameter(bias, pt, 0, d, c);
             Tensor mean = parameter(runningMean, pt, 0, d, c); Tensor var = parameter(runningVar, pt, 1, d, c)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long xd = desc.tensor(t, dims), pd = desc.batchNormParameters(xd);
                    Cudnn.batchNormalizationForwardInference(handle, Cudnn.BATCHNORM_SPATIAL, 1, 0, xd, CudnnCalls.address(x),
                            xd, CudnnCalls.address(out), pd, CudnnCalls.address(w), CudnnCalls.address(b),
                            CudnnCalls.address(mean), CudnnCalls.address(var), eps);
                }
            });
        }
        return out;
    }

    /**
     * The training-mode gradients from the saved batch statistics. eps must be the forward's
     * (cuDNN asks for the same value in both). gradWeight and gradBias come in weight's dtype
     * when it is given, else in the parameter dtype.
     */
    static BatchNormKernels.BatchNormGrads backward(Tensor gradOut, Tensor input, Tensor weight, Tensor saveMean,
            Tensor saveInvstd, double eps, DType t) {
        Device d = input.device();
        DType pt = CudnnDescriptors.parameterType(t);
        int[] dims = CudnnDescriptors.perChannel(input.shape);
        int c = dims[1];
        Tensor dx = Tensor.empty(d, t, input.shape), dw = Tensor.empty(d, pt, c), db = Tensor.empty(d, pt, c);
        try (Tensor x = input.contiguousAs(t); Tensor dy = gradOut.contiguousAs(t); Tensor w = parameter(weight, pt, 1, d, c);
             Tensor mean = saveMean.contiguousAs(pt); Tensor invstd = saveInvstd.contiguousAs(pt)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long xd = desc.tensor(t, dims), pd = desc.batchNormParameters(xd);
                    Cudnn.batchNormalizationBackward(handle, Cudnn.BATCHNORM_SPATIAL, 1, 0, 1, 0, xd, CudnnCalls.address(x),
                            xd, CudnnCalls.address(dy), xd, CudnnCalls.address(dx), pd, CudnnCalls.address(w),
                            CudnnCalls.address(dw), CudnnCalls.address(db), eps, CudnnCalls.address(mean),
                            CudnnCalls.address(invstd));
                }
            });
        }
        DType gradType = weight != null ? weight.dtype : pt;
        return new BatchNormKernels.BatchNormGrads(dx, inType(dw, gradType), inType(db, gradType));
    }

    /** A per-channel input as a contiguous tensor of dtype pt on d (closed by the caller), or c copies of fill if null. */
    private static Tensor parameter(Tensor p, DType pt, double fill, Device d, int c) {
        return p != null ? p.contiguousAs(pt) : Tensor.full(d, pt, fill, c);
    }

    /**
     * A running statistic cuDNN can update in place: the tensor itself when it is contiguous in
     * dtype pt, else a converted copy (see {@link #settle}); a zero stand-in when it is null.
     */
    private static Tensor updatable(Tensor running, DType pt, Device d, int c) {
        if (running == null) return Tensor.zeros(d, pt, c);
        if (running.dtype == pt && running.isContiguous()) return running;
        return running.contiguousAs(pt);
    }

    /** After cuDNN wrote {@code updated}: the running tensor has its new values (and version); stand-ins are freed. */
    private static void settle(Tensor running, Tensor updated) {
        if (updated == running) {
            running.bumpVersion(); // written in place by cuDNN, as copy_ would have marked it
            return;
        }
        try (updated) {
            if (running != null) running.copy_(updated);
        }
    }

    /** t converted to dtype (t closed) where it differs. */
    private static Tensor inType(Tensor t, DType dtype) {
        if (t.dtype == dtype) return t;
        try (t) {
            return t.to(dtype);
        }
    }
}

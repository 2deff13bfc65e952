package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuBatchNorm;
import dev.ember.tensor.cpu.CpuBatchNormStats;
import java.util.Arrays;

/**
 * Batch normalisation over the channel dim (dim 1) of [N, C, ...] float32 or float64 tensors of
 * any layout: [N, C] for BatchNorm1d, [N, C, L], [N, C, H, W] for BatchNorm2d and so on.
 * Statistics are reduced in double for both dtypes; the variance that normalises is the biased
 * one, the variance folded into running_var the unbiased one, as PyTorch.
 *
 * <p>The training backward pass here is the one for batch statistics (the saved mean and
 * inverse standard deviation); in evaluation mode the output is an affine function of the
 * input with the running statistics as constants.
 *
 * <p>On a CUDA device the checked call runs on cuDNN ({@link CudaBatchNorm}); there float16 and
 * bfloat16 inputs are taken too, with parameters and statistics in their dtype or in float32
 * (mixed precision, which is what cuDNN computes with).
 */
final class BatchNormKernels {
    private BatchNormKernels() {}

    /** The forward result in training mode: the output and the batch statistics backward needs. */
    record BatchNormResult(Tensor output, Tensor saveMean, Tensor saveInvstd) implements AutoCloseable {
        @Override
        public void close() {
            output.close();
            saveMean.close();
            saveInvstd.close();
        }
    }

    /** Gradients with respect to input, weight and bias (the last two as if weight and bias were given). */
    record BatchNormGrads(Tensor gradInput, Tensor gradWeight, Tensor gradBias) implements AutoCloseable {
        @Override
        public void close() {
            gradInput.close();
            gradWeight.close();
            gradBias.close();
        }
    }

    /** [N, C, S]: batch, channels and the product of the dims after the channel. */
    private record Dims(long n, int c, long s) {
        static Dims of(long[] shape) {
            long s = 1;
            for (int d = 2; d < shape.length; d++) s *= shape[d];
            return new Dims(shape[0], Math.toIntExact(shape[1]), s);
        }
    }

    /**
     * Normalises with the batch's statistics and folds them into the running ones in place
     * (when given): running = (1 − momentum)·running + momentum·batch statistic. weight, bias,
     * runningMean and runningVar may each be null. saveMean and saveInvstd are [C] (empty for an
     * empty input, which leaves the running statistics alone, as PyTorch).
     */
    static BatchNormResult batchNormTraining(Tensor input, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
            double momentum, double eps) {
        DType t = checkInput(input);
        Device device = CudnnCalls.sameDevice(input, weight, bias, runningMean, runningVar);
        Dims d = Dims.of(input.shape);
        if (d.n * d.s == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel when training, got input size "
                    + Shapes.format(input.shape));
        }
        Tensor out = Tensor.empty(device, t, input.shape);
        if (input.numel() == 0) return new BatchNormResult(out, Tensor.empty(device, t, 0), Tensor.empty(device, t, 0));
        checkParameters(t, d.c, weight, bias, runningMean, runningVar);
        if (device.isCuda()) return CudaBatchNorm.training(input, t, weight, bias, runningMean, runningVar, momentum, eps, out);
        double[] mean, invstd;
        try (Tensor x = input.contiguousAs(t)) {
            CpuBatchNormStats.MeanVar mv = CpuBatchNormStats.meanVar(t, x.data(), x.offset, d.n, d.c, d.s);
            mean = mv.mean();
            invstd = new double[d.c];
            for (int c = 0; c < d.c; c++) invstd[c] = 1 / Math.sqrt(mv.var()[c] + eps);
            normalize(t, d, x, mean, invstd, weight, bias, out);
            if (runningMean != null) blend(runningMean, mean, momentum);
            if (runningVar != null) {
                double m = (double) d.n * d.s;
                double[] unbiased = new double[d.c];
                for (int c = 0; c < d.c; c++) unbiased[c] = mv.var()[c] * m / (m - 1);
                blend(runningVar, unbiased, momentum);
            }
        }
        return new BatchNormResult(out, vector(t, mean), vector(t, invstd));
    }

    /** Normalises with the running statistics (evaluation mode); weight and bias may be null. */
    static Tensor batchNormInference(Tensor input, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar, double eps) {
        DType t = checkInput(input);
        Device device = CudnnCalls.sameDevice(input, weight, bias, runningMean, runningVar);
        Dims d = Dims.of(input.shape);
        Tensor out = Tensor.empty(device, t, input.shape);
        if (input.numel() == 0) return out;
        if (runningMean == null) throw new IllegalArgumentException("running_mean must be defined in evaluation mode");
        if (runningVar == null) throw new IllegalArgumentException("running_var must be defined in evaluation mode");
        checkParameters(t, d.c, weight, bias, runningMean, runningVar);
        if (device.isCuda()) return CudaBatchNorm.inference(input, t, weight, bias, runningMean, runningVar, eps, out);
        double[] mean = runningMean.toDoubleArray(), invstd = runningVar.toDoubleArray();
        for (int c = 0; c < d.c; c++) invstd[c] = 1 / Math.sqrt(invstd[c] + eps);
        try (Tensor x = input.contiguousAs(t)) {
            normalize(t, d, x, mean, invstd, weight, bias, out);
        }
        return out;
    }

    /**
     * The training-mode gradients, given the saved batch statistics. With x̂ = (x − mean)·invstd
     * and M = N·S values per channel:
     * <pre>
     *   dbias   = Σ dy
     *   dweight = Σ dy·x̂
     *   dx      = w·invstd·(dy − dbias/M − x̂·dweight/M)
     * </pre>
     * {@code weight} may be null (taken as ones); gradWeight and gradBias are always computed.
     * {@code eps} must be the forward's: cuDNN asks for it (the host path needs only saveInvstd).
     */
    static BatchNormGrads batchNormBackward(Tensor gradOut, Tensor input, Tensor weight, Tensor saveMean, Tensor saveInvstd,
            double eps) {
        DType t = checkInput(input);
        gradOut.checkOpen();
        Device device = CudnnCalls.sameDevice(input, gradOut, weight, saveMean, saveInvstd);
        if (!Arrays.equals(gradOut.shape, input.shape)) {
            throw new IllegalArgumentException("Expected grad_out of size " + Shapes.format(input.shape)
                    + " for batch_norm, but got grad_out of size " + Shapes.format(gradOut.shape));
        }
        checkSameType(t, gradOut, "grad_out");
        Dims d = Dims.of(input.shape);
        if (input.numel() == 0) {
            return new BatchNormGrads(Tensor.empty(device, t, input.shape), Tensor.zeros(device, t, d.c), Tensor.zeros(device, t, d.c));
        }
        checkParameters(t, d.c, weight, null, null, null);
        checkChannels(t, "save_mean", d.c, saveMean);
        checkChannels(t, "save_invstd", d.c, saveInvstd);
        if (device.isCuda()) return CudaBatchNorm.backward(gradOut, input, weight, saveMean, saveInvstd, eps, t);
        Tensor dx = Tensor.empty(t, input.shape);
        double[] mean = saveMean.toDoubleArray(), invstd = saveInvstd.toDoubleArray(), w = valuesOr(weight, d.c, 1);
        CpuBatchNormStats.GradSums sums;
        try (Tensor dy = gradOut.contiguousAs(t); Tensor x = input.contiguousAs(t)) {
            sums = CpuBatchNormStats.gradSums(t, dy.data(), dy.offset, x.data(), x.offset, mean, d.n, d.c, d.s);
            double m = (double) d.n * d.s;
            double[] ka = new double[d.c], kx = new double[d.c], k0 = new double[d.c], zero = new double[d.c];
            for (int c = 0; c < d.c; c++) {
                ka[c] = w[c] * invstd[c];
                kx[c] = -ka[c] * invstd[c] * invstd[c] * sums.sumDyXmu()[c] / m;
                k0[c] = -ka[c] * sums.sumDy()[c] / m;
            }
            CpuBatchNorm.combine(t, d.n, d.c, d.s, new CpuBatchNorm.Term(dy.data(), dy.offset, zero, ka),
                    new CpuBatchNorm.Term(x.data(), x.offset, mean, kx), k0, dx.data(), dx.offset);
        }
        double[] dw = new double[d.c];
        for (int c = 0; c < d.c; c++) dw[c] = sums.sumDyXmu()[c] * invstd[c];
        return new BatchNormGrads(dx, vector(t, dw), vector(t, sums.sumDy()));
    }

    /** Batch norm's gradients with PyTorch's default eps (1e-5), for callers that did not keep the forward's. */
    static BatchNormGrads batchNormBackward(Tensor gradOut, Tensor input, Tensor weight, Tensor saveMean, Tensor saveInvstd) {
        return batchNormBackward(gradOut, input, weight, saveMean, saveInvstd, 1e-5);
    }

    /** Sums over every dim but dim 1 of a floating tensor of rank ≥ 2, as a [C] tensor of dtype t. */
    static Tensor channelSums(Tensor x, DType t) {
        // On CUDA the reduction kernels (float accumulation for the narrow floats), not
        // cudnnConvolutionBackwardBias: cuDNN 9 refuses that one for float16 and bfloat16.
        if (x.isCuda()) return Reductions.sum(x, allButChannel(x.dim()), t);
        Dims d = Dims.of(x.shape);
        try (Tensor c = x.contiguousAs(t)) {
            return vector(t, CpuBatchNormStats.sums(t, c.data(), c.offset, d.n, d.c, d.s));
        }
    }

    /** Every dim of a rank-{@code rank} tensor but dim 1. */
    private static int[] allButChannel(int rank) {
        int[] dims = new int[rank - 1];
        dims[0] = 0;
        for (int d = 2; d < rank; d++) dims[d - 1] = d;
        return dims;
    }

    /** out = (x − mean)·invstd·w + b. */
    private static void normalize(DType t, Dims d, Tensor x, double[] mean, double[] invstd, Tensor weight, Tensor bias, Tensor out) {
        double[] w = valuesOr(weight, d.c, 1), scale = new double[d.c];
        for (int c = 0; c < d.c; c++) scale[c] = invstd[c] * w[c];
        CpuBatchNorm.combine(t, d.n, d.c, d.s, new CpuBatchNorm.Term(x.data(), x.offset, mean, scale), null,
                valuesOr(bias, d.c, 0), out.data(), out.offset);
    }

    /** running = (1 − momentum)·running + momentum·batch, in place. */
    private static void blend(Tensor running, double[] batch, double momentum) {
        double[] r = running.toDoubleArray();
        for (int c = 0; c < r.length; c++) r[c] = (1 - momentum) * r[c] + momentum * batch[c];
        try (Tensor v = Tensor.fromArray(r)) {
            running.copy_(v);
        }
    }

    /** A tensor's values, or n copies of {@code otherwise} when it is null. */
    private static double[] valuesOr(Tensor t, int n, double otherwise) {
        if (t != null) return t.toDoubleArray();
        double[] v = new double[n];
        Arrays.fill(v, otherwise);
        return v;
    }

    /** A 1-D tensor of dtype t holding {@code values}. */
    static Tensor vector(DType t, double[] values) {
        Tensor v = Tensor.empty(t, values.length);
        for (int i = 0; i < values.length; i++) v.setFlat(i, values[i]);
        return v;
    }

    /** The input's dtype, once it is known to be float32 or float64 of rank ≥ 2. */
    private static DType checkInput(Tensor input) {
        input.checkOpen();
        if (input.dim() == 0) throw new IndexOutOfBoundsException("Dimension specified as 1 but tensor has no dimensions");
        if (input.dim() == 1) {
            throw new IndexOutOfBoundsException("Dimension out of range (expected to be in range of [-1, 0], but got 1)");
        }
        // float32 and float64 on the host; on CUDA also float16 and bfloat16, which cuDNN takes
        if (input.isCuda() ? !input.dtype.isFloatingPoint() : input.dtype != DType.FLOAT32 && input.dtype != DType.FLOAT64) {
            throw new IllegalArgumentException("\"batch_norm\" not implemented for '" + TypePromotion.scalarTypeName(input.dtype) + "'");
        }
        return input.dtype;
    }

    /** Checks each given per-channel tensor in PyTorch's order: running_mean, running_var, weight, bias. */
    private static void checkParameters(DType t, int c, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar) {
        checkChannels(t, "running_mean", c, runningMean);
        checkChannels(t, "running_var", c, runningVar);
        checkChannels(t, "weight", c, weight);
        checkChannels(t, "bias", c, bias);
    }

    private static void checkChannels(DType t, String name, int c, Tensor p) {
        if (p == null) return;
        p.checkOpen();
        if (p.numel() != c) throw new IllegalArgumentException(name + " should contain " + c + " elements not " + p.numel());
        checkSameType(t, p, name);
    }

    /** p must have dtype t; on CUDA, float16 and bfloat16 data may also come with float32 ones (mixed precision). */
    private static void checkSameType(DType t, Tensor p, String name) {
        boolean mixed = p.isCuda() && p.dtype == DType.FLOAT32 && (t == DType.FLOAT16 || t == DType.BFLOAT16);
        if (p.dtype != t && !mixed) {
            throw new IllegalArgumentException("mixed dtype (CPU): all inputs must share same datatype. Got "
                    + TypePromotion.scalarTypeName(t) + " input and " + TypePromotion.scalarTypeName(p.dtype) + " " + name);
        }
    }
}

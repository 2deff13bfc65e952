package dev.ember.tensor;

/**
 * The neural-network primitives that have kernels of their own (convolution, pooling, batch
 * normalisation) plus dropout, each declared once here with its derivative. Layers in the nn
 * module build on these; everything else they compose from ordinary tensor ops.
 *
 * <p>The backward passes of the kernel-backed ops are fused kernels: first-order gradients
 * only (a create_graph backward through them fails clearly).
 */
public final class NeuralOps {
    private NeuralOps() {}

    /** torch.nn.functional.conv2d over NCHW input; {@code bias} may be null. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                int groups) {
        if (!Graph.needsGrad(input, weight, bias)) return ConvKernels.conv2d(input, weight, bias, stride, padding, dilation, groups);
        Tensor out = Graph.untracked(() -> ConvKernels.conv2d(input, weight, bias, stride, padding, dilation, groups));
        long[] inShape = input.shape, wShape = weight.shape;
        return Graph.recordFirstOrder(out, "ConvolutionBackward0", (g, s) -> {
            boolean biasGrad = bias != null && bias.requiresGrad();
            Tensor[] wb = weight.requiresGrad()
                    ? ConvKernels.conv2dBackwardWeightAndBias(g, s[0], wShape, stride, padding, dilation, groups, biasGrad)
                    : new Tensor[] {null, biasGrad ? ConvKernels.conv2dBackwardBias(g) : null};
            return new Tensor[] {
                    input.requiresGrad() ? ConvKernels.conv2dBackwardInput(g, s[1], inShape, stride, padding, dilation, groups) : null,
                    wb[0], wb[1]};
        }, new Tensor[] {input, weight, bias}, input, weight);
    }

    /** torch.nn.functional.max_pool2d; its gradient goes to each window's (first) maximum. */
    public static Tensor maxPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        boolean grad = Graph.needsGrad(input);
        PoolKernels.PoolResult r = grad
                ? Graph.untracked(() -> PoolKernels.maxPool2d(input, kernel, stride, padding, dilation, ceilMode))
                : PoolKernels.maxPool2d(input, kernel, stride, padding, dilation, ceilMode);
        if (!grad) {
            if (r.indices() != null) r.indices().close();
            return r.output();
        }
        if (r.indices() == null) { // CUDA: cuDNN's gradient finds the maxima again from the input and output
            return Graph.recordFirstOrder(r.output(), "MaxPool2DWithIndicesBackward0", (g, s) -> new Tensor[] {
                    PoolKernels.maxPool2dBackward(g, s[0], s[1], kernel, stride, padding, dilation, ceilMode)},
                    new Tensor[] {input}, input, r.output());
        }
        long[] inShape = input.shape;
        return Graph.recordFirstOrder(r.output(), "MaxPool2DWithIndicesBackward0",
                (g, s) -> new Tensor[] {PoolKernels.maxPool2dBackward(g, s[0], inShape)}, new Tensor[] {input}, r.indices());
    }

    /** torch.nn.functional.avg_pool2d. */
    public static Tensor avgPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, boolean ceilMode,
                                   boolean countIncludePad) {
        if (!Graph.needsGrad(input)) return PoolKernels.avgPool2d(input, kernel, stride, padding, ceilMode, countIncludePad);
        Tensor out = Graph.untracked(() -> PoolKernels.avgPool2d(input, kernel, stride, padding, ceilMode, countIncludePad));
        long[] inShape = input.shape;
        return Graph.recordFirstOrder(out, "AvgPool2DBackward0", (g, s) -> new Tensor[] {
                PoolKernels.avgPool2dBackward(g, inShape, kernel, stride, padding, ceilMode, countIncludePad)}, new Tensor[] {input});
    }

    /** torch.nn.functional.adaptive_avg_pool2d. */
    public static Tensor adaptiveAvgPool2d(Tensor input, int[] outputSize) {
        if (!Graph.needsGrad(input)) return PoolKernels.adaptiveAvgPool2d(input, outputSize);
        Tensor out = Graph.untracked(() -> PoolKernels.adaptiveAvgPool2d(input, outputSize));
        long[] inShape = input.shape;
        return Graph.recordFirstOrder(out, "AdaptiveAvgPool2DBackward0",
                (g, s) -> new Tensor[] {PoolKernels.adaptiveAvgPool2dBackward(g, inShape)}, new Tensor[] {input});
    }

    /**
     * torch.nn.functional.batch_norm over [N, C, ...]. Training normalises with the batch's
     * statistics and updates {@code runningMean}/{@code runningVar} in place (when given);
     * evaluation uses the running statistics. weight, bias and the running tensors may be null.
     */
    public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        if (!training) {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("batch_norm in evaluation mode needs running_mean and running_var");
            }
            if (!Graph.needsGrad(input, weight, bias)) {
                return BatchNormKernels.batchNormInference(input, weight, bias, runningMean, runningVar, eps);
            }
            return batchNormFromOps(input, runningMean, runningVar, weight, bias, eps);
        }
        boolean grad = Graph.needsGrad(input, weight, bias);
        BatchNormKernels.BatchNormResult r = grad
                ? Graph.untracked(() -> BatchNormKernels.batchNormTraining(input, weight, bias, runningMean, runningVar, momentum, eps))
                : BatchNormKernels.batchNormTraining(input, weight, bias, runningMean, runningVar, momentum, eps);
        if (!grad) {
            r.saveMean().close();
            r.saveInvstd().close();
            return r.output();
        }
        return Graph.recordFirstOrder(r.output(), "NativeBatchNormBackward0", (g, s) -> {
            BatchNormKernels.BatchNormGrads grads = BatchNormKernels.batchNormBackward(g, s[0], s[1], s[2], s[3], eps);
            return new Tensor[] {grads.gradInput(), weight == null ? null : grads.gradWeight(), bias == null ? null : grads.gradBias()};
        }, new Tensor[] {input, weight, bias}, input, weight, r.saveMean(), r.saveInvstd());
    }

    /** Evaluation-mode batch norm from differentiable ops, for the rare backward through frozen statistics. */
    private static Tensor batchNormFromOps(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                           double eps) {
        long[] channel = new long[input.dim()];
        java.util.Arrays.fill(channel, 1);
        channel[1] = input.shape[1];
        Tensor y = input.sub(runningMean.reshape(channel)).mul(runningVar.add(eps).rsqrt().reshape(channel));
        if (weight != null) y = y.mul(weight.reshape(channel));
        if (bias != null) y = y.add(bias.reshape(channel));
        return y;
    }

    /**
     * Dropout: zeroes each element with probability {@code p} and scales the rest by 1/(1-p)
     * while training; the identity otherwise. A floating CUDA tensor takes one fused kernel
     * (random.cu), whose keep-mask differs from the host's for the same seed, as in PyTorch.
     */
    public static Tensor dropout(Tensor input, double p, boolean training, Generator generator) {
        if (p < 0 || p > 1) {
            throw new IllegalArgumentException("dropout probability has to be between 0 and 1, but got " + p);
        }
        if (!training || p == 0) return input.view(input.shape);
        if (p == 1) return input.mul(0L);
        if (input.isCuda() && input.dtype.isFloatingPoint()) return fusedDropout(input, p, generator);
        Tensor mask;
        try (Tensor r = Tensor.rand(generator, input.device(), input.shape)) {
            mask = r.ge(p);
        }
        Tensor kept = input.mul(mask);
        Tensor out = kept.mul(1 / (1 - p));
        if (!Graph.needsGrad(input)) {
            // nothing saved them for backward: free the intermediates now
            mask.close();
            kept.close();
        }
        return out;
    }

    /**
     * Dropout on CUDA: mask and scaled output from one kernel, and a backward kernel that applies
     * the saved mask. When the backward is itself recorded (create_graph) it is composed of
     * differentiable ops instead, so higher derivatives work as on the CPU.
     */
    private static Tensor fusedDropout(Tensor input, double p, Generator generator) {
        CudaRandom.Dropout r = CudaRandom.dropout(input, p, generator);
        if (!Graph.needsGrad(input)) {
            r.mask().close();
            return r.output();
        }
        double scale = 1 / (1 - p);
        return Graph.record(r.output(), "NativeDropoutBackward0", (g, s) -> new Tensor[] {
                GradMode.isEnabled() ? g.mul(s[0]).mul(scale) : CudaRandom.dropoutBackward(g, s[0], p)},
                new Tensor[] {input}, r.mask());
    }
}

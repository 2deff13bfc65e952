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
        return Graph.recordFirstOrder(out, "ConvolutionBackward0", (g, s) -> new Tensor[] {
                input.requiresGrad() ? ConvKernels.conv2dBackwardInput(g, s[1], inShape, stride, padding, dilation, groups) : null,
                weight.requiresGrad() ? ConvKernels.conv2dBackwardWeight(g, s[0], wShape, stride, padding, dilation, groups) : null,
                bias != null && bias.requiresGrad() ? ConvKernels.conv2dBackwardBias(g) : null},
                new Tensor[] {input, weight, bias}, input, weight);
    }

    /**
     * Dropout: zeroes each element with probability {@code p} and scales the rest by 1/(1-p)
     * while training; the identity otherwise.
     */
    public static Tensor dropout(Tensor input, double p, boolean training, Generator generator) {
        if (p < 0 || p > 1) {
            throw new IllegalArgumentException("dropout probability has to be between 0 and 1, but got " + p);
        }
        if (!training || p == 0) return input.view(input.shape);
        if (p == 1) return input.mul(0L);
        Tensor mask;
        try (Tensor r = Tensor.rand(generator, input.shape)) {
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
}

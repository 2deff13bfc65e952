package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** Batch normalisation of NCHW input over its channels, as {@code nn.BatchNorm2d}. */
public class BatchNorm2d extends BatchNorm {
    /** eps 1e-5, momentum 0.1, affine, tracking running statistics. */
    public BatchNorm2d(long numFeatures) { this(numFeatures, 1e-5, 0.1, true, true); }

    public BatchNorm2d(long numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected void checkInputDim(Tensor input) {
        if (input.dim() != 4) throw new IllegalArgumentException("expected 4D input (got " + input.dim() + "D input)");
    }
}

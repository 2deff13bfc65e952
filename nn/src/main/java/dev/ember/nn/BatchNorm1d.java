package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** Batch normalisation of [N, C] or [N, C, L] input, as {@code nn.BatchNorm1d}. */
public class BatchNorm1d extends BatchNorm {
    /** eps 1e-5, momentum 0.1, affine, tracking running statistics. */
    public BatchNorm1d(long numFeatures) { this(numFeatures, 1e-5, 0.1, true, true); }

    public BatchNorm1d(long numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected void checkInputDim(Tensor input) {
        if (input.dim() != 2 && input.dim() != 3) {
            throw new IllegalArgumentException("expected 2D or 3D input (got " + input.dim() + "D input)");
        }
    }
}

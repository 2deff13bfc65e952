package dev.ember.nn;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;

/**
 * Batch normalisation over the channel dim (dim 1), the common part of {@link BatchNorm1d} and
 * {@link BatchNorm2d} (PyTorch's {@code _BatchNorm}). While training it normalises with the
 * batch's mean and biased variance and updates the running estimates (with the unbiased
 * variance, and {@code momentum} as the weight of the new batch); in eval mode it normalises
 * with the running estimates. Parameters {@code weight} (1) and {@code bias} (0) when affine;
 * buffers {@code running_mean} (0), {@code running_var} (1) and {@code num_batches_tracked} when
 * tracking running statistics.
 */
public abstract class BatchNorm extends Module {
    private final long numFeatures;
    private final double eps;
    private final double momentum;
    private final boolean affine;
    private final boolean trackRunningStats;

    protected BatchNorm(long numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.trackRunningStats = trackRunningStats;
        if (affine) {
            registerParameter("weight", Tensor.ones(numFeatures));
            registerParameter("bias", Tensor.zeros(numFeatures));
        }
        if (trackRunningStats) {
            registerBuffer("running_mean", Tensor.zeros(numFeatures));
            registerBuffer("running_var", Tensor.ones(numFeatures));
            registerBuffer("num_batches_tracked", Tensor.zeros(DType.INT64));
        }
    }

    /** Rejects input of the wrong rank, naming the ranks this layer takes. */
    protected abstract void checkInputDim(Tensor input);

    @Override
    public Tensor forward(Tensor input) {
        checkInputDim(input);
        // checked here so that every mode (and the kernel-free eval path) words it as PyTorch does
        if ((trackRunningStats || affine) && input.size(1) != numFeatures) {
            throw new IllegalArgumentException((trackRunningStats ? "running_mean" : "weight") + " should contain " + input.size(1)
                    + " elements not " + numFeatures);
        }
        if (isTraining() && trackRunningStats) {
            try (var off = Ember.noGrad()) {
                numBatchesTracked().add_(1L);
            }
        }
        // without running statistics there is nothing else to normalise with, in eval mode too
        boolean useBatchStats = isTraining() || !trackRunningStats;
        return Functional.batchNorm(input, runningMean(), runningVar(), weight(), bias(), useBatchStats, momentum, eps);
    }

    /** Running statistics back to mean 0, variance 1, no batches seen. */
    public void resetRunningStats() {
        if (!trackRunningStats) return;
        Init.zeros_(runningMean());
        Init.ones_(runningVar());
        Init.zeros_(numBatchesTracked());
    }

    /** The scale, or null when not affine. */
    public Tensor weight() { return parameter("weight"); }

    /** The shift, or null when not affine. */
    public Tensor bias() { return parameter("bias"); }

    /** The running mean, or null when not tracking running statistics. */
    public Tensor runningMean() { return buffer("running_mean"); }

    public Tensor runningVar() { return buffer("running_var"); }

    public Tensor numBatchesTracked() { return buffer("num_batches_tracked"); }

    public long numFeatures() { return numFeatures; }

    @Override
    protected String extraRepr() {
        return numFeatures + ", eps=" + Repr.pyFloat(eps) + ", momentum=" + Repr.pyFloat(momentum) + ", affine=" + Repr.pyBool(affine)
                + ", track_running_stats=" + Repr.pyBool(trackRunningStats);
    }
}

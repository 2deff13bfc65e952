package dev.ember.nn;

import dev.ember.tensor.Tensor;

/**
 * Cross-entropy of logits [N, C, ...] against int64 class indices [N, ...] or class
 * probabilities, as {@code nn.CrossEntropyLoss}; see
 * {@link Functional#crossEntropy(Tensor, Tensor, Tensor, long, String, double)}.
 */
public class CrossEntropyLoss extends Loss {
    private final long ignoreIndex;
    private final double labelSmoothing;

    /** Mean, no class weights, ignore_index -100, no label smoothing. */
    public CrossEntropyLoss() { this(null, -100, "mean", 0); }

    /**
     * @param weight per-class weights [C], or null; the loss keeps it as its buffer "weight" and closes it with itself
     * @param ignoreIndex a target value that contributes nothing, not even to the mean's denominator
     * @param labelSmoothing in [0, 1]: the share of the target spread uniformly over the classes
     */
    public CrossEntropyLoss(Tensor weight, long ignoreIndex, String reduction, double labelSmoothing) {
        super(reduction);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("label_smoothing must be between 0.0 and 1.0. Got: " + labelSmoothing);
        }
        this.ignoreIndex = ignoreIndex;
        this.labelSmoothing = labelSmoothing;
        if (weight != null) registerBuffer("weight", weight);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return Functional.crossEntropy(input, target, buffer("weight"), ignoreIndex, reduction(), labelSmoothing);
    }
}

package dev.ember.nn;

import dev.ember.tensor.Tensor;

/**
 * Negative log-likelihood of log-probabilities [N, C, ...] against int64 class indices
 * [N, ...], as {@code nn.NLLLoss}; see {@link Functional#nllLoss(Tensor, Tensor, Tensor, long, String)}.
 */
public class NLLLoss extends Loss {
    private final long ignoreIndex;

    /** Mean, no class weights, ignore_index -100. */
    public NLLLoss() { this(null, -100, "mean"); }

    /**
     * @param weight per-class weights [C], or null; the loss keeps it as its buffer "weight" and closes it with itself
     * @param ignoreIndex a target value that contributes nothing, not even to the mean's denominator
     */
    public NLLLoss(Tensor weight, long ignoreIndex, String reduction) {
        super(reduction);
        this.ignoreIndex = ignoreIndex;
        if (weight != null) registerBuffer("weight", weight);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return Functional.nllLoss(input, target, buffer("weight"), ignoreIndex, reduction());
    }
}

package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** Squared error (input - target)^2, as {@code nn.MSELoss}. */
public class MSELoss extends Loss {
    /** The mean over all elements. */
    public MSELoss() { this("mean"); }

    public MSELoss(String reduction) { super(reduction); }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return Functional.mseLoss(input, target, reduction()); }
}

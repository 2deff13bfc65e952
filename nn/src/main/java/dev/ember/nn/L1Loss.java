package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** Absolute error |input - target|, as {@code nn.L1Loss}. */
public class L1Loss extends Loss {
    /** The mean over all elements. */
    public L1Loss() { this("mean"); }

    public L1Loss(String reduction) { super(reduction); }

    @Override
    public Tensor forward(Tensor input, Tensor target) { return Functional.l1Loss(input, target, reduction()); }
}

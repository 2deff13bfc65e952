package dev.ember.nn;

import dev.ember.tensor.Tensor;

/**
 * A loss module: a function of an input and a target rather than of one tensor, reduced as its
 * {@link Reduction} says. Losses are modules (as in PyTorch) so that a class-weight tensor is
 * a buffer that moves and converts with the model.
 */
public abstract class Loss extends Module {
    private final Reduction reduction;

    /** @param reduction "none", "mean" or "sum" */
    protected Loss(String reduction) { this.reduction = Reduction.of(reduction); }

    /** "none", "mean" or "sum", as PyTorch spells it. */
    public String reduction() { return reduction.toString(); }

    public abstract Tensor forward(Tensor input, Tensor target);

    /** The loss of {@code input} against {@code target}. */
    public Tensor apply(Tensor input, Tensor target) { return forward(input, target); }

    /** A loss needs a target: calling it with one tensor is a mistake worth naming. */
    @Override
    public final Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(name() + " takes an input and a target: call apply(input, target)");
    }
}

package dev.ember.nn.optim;

import dev.ember.tensor.Tensor;
import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as torch.optim.AdamW: before the Adam
 * update, {@code param *= 1 - lr * weight_decay}, and the gradient itself is left without an L2
 * term. Default weight decay 1e-2; otherwise the options, state and update are {@link Adam}'s.
 */
public final class AdamW extends Adam {
    /** AdamW over {@code params} with PyTorch's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2). */
    public AdamW(Iterable<? extends Tensor> params) {
        this(params, options());
    }

    /** @param options best started from {@link #options()}, which has AdamW's default weight decay */
    public AdamW(Iterable<? extends Tensor> params, Options options) {
        super(params, options);
    }

    public AdamW(List<ParamGroup> groups, Options defaults) {
        super(groups, defaults);
    }

    /** AdamW's defaults: Adam's, with weight decay 1e-2. */
    public static Options options() { return new Options(1e-2); }

    @Override
    boolean decoupledWeightDecay() { return true; }

    @Override
    protected void update(ParamGroup group, Tensor param, Tensor grad, ParamState state) {
        double decay = group.lr() * group.getDouble("weight_decay");
        // multiplying by exactly 1 changes nothing, so a zero decay skips the pass over the parameter
        if (decay != 0) param.mul_(1 - decay);
        applyMoments(group, param, group.getBoolean("maximize") ? grad.neg() : grad, state);
    }
}

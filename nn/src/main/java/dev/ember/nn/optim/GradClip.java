package dev.ember.nn.optim;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Gradient clipping, as torch.nn.utils.clip_grad_norm_. */
@SuppressWarnings("try") // the grad-mode guard and the scope are held for their effect, not used by name
public final class GradClip {
    private GradClip() {}

    /** {@link #clipGradNorm(Iterable, double, double, boolean)} with the 2-norm. */
    public static double clipGradNorm(Iterable<? extends Tensor> params, double maxNorm) {
        return clipGradNorm(params, maxNorm, 2, false);
    }

    /** {@link #clipGradNorm(Iterable, double, double, boolean)} without the non-finite check. */
    public static double clipGradNorm(Iterable<? extends Tensor> params, double maxNorm, double normType) {
        return clipGradNorm(params, maxNorm, normType, false);
    }

    /**
     * Scales the gradients of {@code params} in place so that their total norm (the norm of all of
     * them viewed as one vector) is at most about {@code maxNorm}: each is multiplied by
     * {@code min(1, maxNorm / (total + 1e-6))}. Parameters without a gradient are ignored. The total
     * is computed in the gradients' dtype, so float32 gradients give PyTorch's float32 numbers.
     *
     * @param normType         the p of the p-norm; {@code Double.POSITIVE_INFINITY} for the largest magnitude
     * @param errorIfNonfinite throw, leaving the gradients as they are, when the total is NaN or
     *                         infinite (otherwise they are scaled by it, which makes them NaN)
     * @return the total norm before clipping; 0 when no parameter has a gradient
     */
    public static double clipGradNorm(Iterable<? extends Tensor> params, double maxNorm, double normType, boolean errorIfNonfinite) {
        List<Tensor> grads = new ArrayList<>();
        for (Tensor p : params) {
            if (p.grad() != null) grads.add(p.grad());
        }
        if (grads.isEmpty()) return 0;
        try (var noGrad = Ember.noGrad(); Scope temporaries = Ember.scope()) {
            Tensor total = totalNorm(grads, normType);
            double value = total.item();
            if (errorIfNonfinite && !Double.isFinite(value)) {
                throw new IllegalStateException("The total norm of order " + PyFloat.repr(normType) + " for gradients from"
                        + " `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients"
                        + " by the non-finite norm anyway, set `errorIfNonfinite` to false");
            }
            // PyTorch's max_norm / (total + 1e-6) is reciprocal(total + 1e-6) * max_norm; keep its rounding.
            // Multiplying by a coefficient clamped to 1 rather than testing it keeps the step free of a branch.
            Tensor coefficient = Tensor.onesLike(total).div_(total.add(1e-6)).mul_(maxNorm).clampMax_(1.0);
            for (Tensor g : grads) g.mul_(coefficient);
            return value;
        }
    }

    /** The norm of the per-gradient norms, which is the norm of all gradients concatenated. */
    private static Tensor totalNorm(List<Tensor> grads, double normType) {
        List<Tensor> norms = new ArrayList<>(grads.size());
        if (normType == Double.POSITIVE_INFINITY) {
            for (Tensor g : grads) norms.add(g.abs().max());
            return norms.size() == 1 ? norms.get(0) : Tensor.stack(norms).max();
        }
        for (Tensor g : grads) norms.add(g.norm(normType));
        return Tensor.stack(norms).norm(normType);
    }
}

package dev.ember.nn;

import dev.ember.tensor.Tensor;

/**
 * Binary cross-entropy of logits, computed stably, as {@code nn.BCEWithLogitsLoss}; see
 * {@link Functional#binaryCrossEntropyWithLogits(Tensor, Tensor, Tensor, String)}.
 */
public class BCEWithLogitsLoss extends Loss {
    /** Mean, no positive-class weight. */
    public BCEWithLogitsLoss() { this(null, "mean"); }

    /** @param posWeight weight of positive examples, per class, or null; the loss keeps it as its buffer "pos_weight" and closes it with itself */
    public BCEWithLogitsLoss(Tensor posWeight, String reduction) {
        super(reduction);
        if (posWeight != null) registerBuffer("pos_weight", posWeight);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return Functional.binaryCrossEntropyWithLogits(input, target, buffer("pos_weight"), reduction());
    }
}

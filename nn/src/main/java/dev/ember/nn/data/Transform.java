package dev.ember.nn.data;

import dev.ember.tensor.Tensor;

/**
 * A function of a tensor, such as {@link Normalize} or an augmentation, applied by a
 * {@link DataLoader} to each batch's inputs on its worker threads.
 *
 * <p>It must leave its argument unchanged and return a new tensor (or the argument itself, for
 * an identity), and be safe to call from several threads at once. Temporaries it makes are
 * closed for it: the loader runs it inside a scope and keeps only the result.
 */
@FunctionalInterface
public interface Transform {
    Tensor apply(Tensor x);

    /** This transform, then {@code next} on its result. */
    default Transform andThen(Transform next) {
        return x -> next.apply(apply(x));
    }
}

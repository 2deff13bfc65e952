package dev.ember.tensor;

import java.util.List;

/**
 * What {@link Tensor#backward} calls: the engine that runs the recorded graph. The autograd
 * module provides it (found with {@link java.util.ServiceLoader}), so the tensor module records
 * graphs without knowing how they are run.
 */
public interface BackwardEngine {
    /**
     * Accumulates into the {@code grad} of every leaf that requires grad the gradient of
     * {@code roots} (weighted by {@code grads}).
     */
    void backward(List<Tensor> roots, List<Tensor> grads, boolean retainGraph, boolean createGraph);

    /** The engine on the class path; fails with a clear message if the autograd module is absent. */
    static BackwardEngine get() {
        return Holder.ENGINE;
    }

    /** Loads the engine once, on first use. */
    final class Holder {
        private static final BackwardEngine ENGINE = java.util.ServiceLoader.load(BackwardEngine.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("backward() needs the ember-autograd module on the class path"));

        private Holder() {}
    }
}

package dev.ember.nn;

import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;

/**
 * PyTorch's {@code nn.Parameter}, as a factory rather than a subclass of Tensor: a parameter is
 * an ordinary leaf tensor that requires grad and that no scope will close (its module does).
 */
public final class Parameter {
    private Parameter() {}

    /**
     * Makes {@code data} a parameter: a leaf (a computed tensor is detached, sharing its storage)
     * that requires grad and belongs to no scope. A leaf is taken over as it is, so the returned
     * tensor is {@code data} itself and its owner is now whoever holds the parameter.
     */
    public static Tensor of(Tensor data) {
        if (!data.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("Only Tensors of floating point dtype can require gradients, got " + data.dtype()
                    + " (register it as a buffer instead)");
        }
        Tensor leaf = data.isLeaf() ? data : data.detach();
        return Scope.escape(leaf).requiresGrad_(true);
    }
}

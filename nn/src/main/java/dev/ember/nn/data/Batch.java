package dev.ember.nn.data;

import dev.ember.tensor.Tensor;

/**
 * A batch from a {@link DataLoader}: inputs stacked along a new first dimension (e.g. float32
 * images [B, 1, 28, 28]) and their targets (e.g. int64 class indices [B]).
 *
 * <p>A batch made on a loader's worker thread belongs to no scope: close it (try-with-resources)
 * once the step is done, so its memory is reused by the next batch instead of waiting for the
 * garbage collector.
 */
public record Batch(Tensor inputs, Tensor targets) implements AutoCloseable {
    public Batch {
        if (inputs.dim() == 0 || targets.dim() == 0 || inputs.size(0) != targets.size(0)) {
            throw new IllegalArgumentException("a batch needs inputs and targets with the same first dimension, got shapes "
                    + java.util.Arrays.toString(inputs.shape()) + " and " + java.util.Arrays.toString(targets.shape()));
        }
    }

    /** The number of examples, the first dimension of both tensors. */
    public int size() { return (int) inputs.size(0); }

    @Override
    public void close() {
        inputs.close();
        targets.close();
    }
}

package dev.ember.nn.data;

import dev.ember.tensor.Tensor;
import java.util.Arrays;

/**
 * A dataset held as two tensors whose first dimension indexes the examples, as
 * torch.utils.data.TensorDataset: inputs [N, ...] and targets [N, ...] (for Fashion-MNIST float32
 * images [N, 1, 28, 28] and int64 labels [N]).
 *
 * <p>It owns both tensors and closes them in {@link #close()}. Batches are gathered with
 * {@link Tensor#indexSelect}, which copies whole contiguous rows, so a batch costs one copy of
 * its own bytes whatever the order of the indices.
 */
public final class TensorDataset implements Dataset<Example>, BatchGather, AutoCloseable {
    private final Tensor inputs;
    private final Tensor targets;

    /** Takes ownership of both tensors, which must agree in their first dimension. */
    public TensorDataset(Tensor inputs, Tensor targets) {
        if (inputs.dim() == 0 || targets.dim() == 0) {
            throw new IllegalArgumentException("TensorDataset needs tensors with a first dimension to index, got shapes "
                    + Arrays.toString(inputs.shape()) + " and " + Arrays.toString(targets.shape()));
        }
        if (inputs.size(0) != targets.size(0)) {
            throw new IllegalArgumentException("Size mismatch between tensors: inputs have " + inputs.size(0)
                    + " examples (shape " + Arrays.toString(inputs.shape()) + ") but targets have " + targets.size(0)
                    + " (shape " + Arrays.toString(targets.shape()) + ")");
        }
        if (inputs.size(0) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("TensorDataset holds at most " + Integer.MAX_VALUE + " examples, got " + inputs.size(0));
        }
        this.inputs = inputs;
        this.targets = targets;
    }

    /** All inputs, [N, ...]; still owned by this dataset. */
    public Tensor inputs() { return inputs; }

    /** All targets, [N, ...]; still owned by this dataset. */
    public Tensor targets() { return targets; }

    @Override
    public int size() { return (int) inputs.size(0); }

    /** Views of row {@code index} of both tensors (no copy); close the example when done with it. */
    @Override
    public Example get(int index) {
        checkIndex(index);
        return new Example(inputs.select(0, index), targets.select(0, index));
    }

    @Override
    public Batch gather(int[] indices) {
        long[] rows = new long[indices.length];
        for (int i = 0; i < indices.length; i++) rows[i] = checkIndex(indices[i]);
        try (Tensor index = Tensor.fromArray(rows)) {
            Tensor x = inputs.indexSelect(0, index);
            try {
                return new Batch(x, targets.indexSelect(0, index));
            } catch (RuntimeException e) {
                x.close();
                throw e;
            }
        }
    }

    /** A dataset of the first {@code n} examples (copies), e.g. to train on a slice of a large set. */
    public TensorDataset head(int n) {
        if (n < 0 || n > size()) throw new IllegalArgumentException("head(" + n + ") of a dataset of " + size() + " examples");
        try (Tensor x = inputs.narrow(0, 0, n); Tensor y = targets.narrow(0, 0, n)) {
            return new TensorDataset(x.clone(), y.clone());
        }
    }

    private int checkIndex(int index) {
        if (index < 0 || index >= size()) {
            throw new IndexOutOfBoundsException("index " + index + " is out of range for a dataset of " + size() + " examples");
        }
        return index;
    }

    @Override
    public void close() {
        inputs.close();
        targets.close();
    }

    @Override
    public String toString() {
        return "TensorDataset(" + size() + " examples, inputs " + Arrays.toString(inputs.shape()) + " " + inputs.dtype()
                + ", targets " + Arrays.toString(targets.shape()) + " " + targets.dtype() + ")";
    }
}

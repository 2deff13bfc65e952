package dev.ember.tensor;

/** The values and indices a max/min along a dim returns, as PyTorch's named tuple. */
public record ValuesIndices(Tensor values, Tensor indices) implements AutoCloseable {
    @Override
    public void close() {
        values.close();
        indices.close();
    }
}

package dev.ember.nn.data;

import dev.ember.tensor.Tensor;

/**
 * One example: an input (an image [C, H, W], say) and its target (a 0-d class index, say).
 * Closing it closes both tensors.
 */
public record Example(Tensor input, Tensor target) implements AutoCloseable {
    @Override
    public void close() {
        input.close();
        target.close();
    }
}

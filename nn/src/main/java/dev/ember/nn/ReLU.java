package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** max(0, x), element-wise, as {@code nn.ReLU}. */
public class ReLU extends Module {
    @Override
    public Tensor forward(Tensor input) { return input.relu(); }
}

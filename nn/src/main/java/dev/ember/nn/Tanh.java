package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** tanh(x), element-wise, as {@code nn.Tanh}. */
public class Tanh extends Module {
    @Override
    public Tensor forward(Tensor input) { return input.tanh(); }
}

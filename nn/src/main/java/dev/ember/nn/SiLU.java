package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** x * sigmoid(x), element-wise, as {@code nn.SiLU}. */
public class SiLU extends Module {
    @Override
    public Tensor forward(Tensor input) { return input.silu(); }
}

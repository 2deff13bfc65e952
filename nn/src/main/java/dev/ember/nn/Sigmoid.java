package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** 1 / (1 + exp(-x)), element-wise, as {@code nn.Sigmoid}. */
public class Sigmoid extends Module {
    @Override
    public Tensor forward(Tensor input) { return input.sigmoid(); }
}

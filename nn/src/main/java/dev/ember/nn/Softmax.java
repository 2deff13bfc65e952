package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** exp(x) / sum(exp(x)) along {@code dim}, as {@code nn.Softmax}. */
public class Softmax extends Module {
    private final int dim;

    public Softmax(int dim) { this.dim = dim; }

    @Override
    public Tensor forward(Tensor input) { return input.softmax(dim); }

    @Override
    protected String extraRepr() { return "dim=" + dim; }
}

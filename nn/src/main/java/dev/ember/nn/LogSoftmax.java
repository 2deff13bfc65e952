package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** log(softmax(x)), computed stably, along {@code dim}, as {@code nn.LogSoftmax}. */
public class LogSoftmax extends Module {
    private final int dim;

    public LogSoftmax(int dim) { this.dim = dim; }

    @Override
    public Tensor forward(Tensor input) { return input.logSoftmax(dim); }

    @Override
    protected String extraRepr() { return "dim=" + dim; }
}

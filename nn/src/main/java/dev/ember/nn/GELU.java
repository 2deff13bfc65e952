package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** x * Phi(x), element-wise, as {@code nn.GELU}: exact ("none") or with the tanh approximation ("tanh"). */
public class GELU extends Module {
    private final String approximate;

    /** The exact form. */
    public GELU() { this("none"); }

    public GELU(String approximate) { this.approximate = approximate; }

    @Override
    public Tensor forward(Tensor input) { return input.gelu(approximate); }

    @Override
    protected String extraRepr() { return "approximate='" + approximate + "'"; }
}

package dev.ember.nn;

import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;

/**
 * While training, zeroes each element with probability p and scales the others by 1/(1-p), as
 * {@code nn.Dropout}; the identity in eval mode. The masks come from this layer's generator, so a
 * seeded generator repeats them.
 */
public class Dropout extends Module {
    private final double p;
    private final Generator generator;

    /** p = 0.5. */
    public Dropout() { this(0.5); }

    public Dropout(double p) { this(p, Generator.defaultGenerator()); }

    public Dropout(double p, Generator generator) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout probability has to be between 0 and 1, but got " + p);
        this.p = p;
        this.generator = generator;
    }

    public double p() { return p; }

    @Override
    public Tensor forward(Tensor input) { return Functional.dropout(input, p, isTraining(), generator); }

    @Override
    protected String extraRepr() { return "p=" + Repr.pyFloat(p) + ", inplace=False"; }
}

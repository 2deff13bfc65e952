package dev.ember.nn;

import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;

/**
 * y = x W^T + b over the last dim of x, as {@code nn.Linear}: weight [out, in], bias [out].
 * Both start from U(-1/sqrt(in), 1/sqrt(in)), PyTorch's default.
 */
public class Linear extends Module {
    private final long inFeatures;
    private final long outFeatures;

    public Linear(long inFeatures, long outFeatures) { this(inFeatures, outFeatures, true); }

    public Linear(long inFeatures, long outFeatures, boolean bias) {
        this(inFeatures, outFeatures, bias, Generator.defaultGenerator());
    }

    /** @param generator the source of the initial values */
    public Linear(long inFeatures, long outFeatures, boolean bias, Generator generator) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        registerParameter("weight", Tensor.empty(outFeatures, inFeatures));
        if (bias) registerParameter("bias", Tensor.empty(outFeatures));
        resetParameters(generator);
    }

    /** Draws fresh initial values, as at construction. */
    public void resetParameters(Generator generator) {
        Init.linearLayerDefaults(weight(), bias(), generator);
    }

    public Tensor weight() { return parameter("weight"); }

    /** The bias, or null for a layer made without one. */
    public Tensor bias() { return parameter("bias"); }

    public long inFeatures() { return inFeatures; }

    public long outFeatures() { return outFeatures; }

    @Override
    public Tensor forward(Tensor input) { return Functional.linear(input, weight(), bias()); }

    @Override
    protected String extraRepr() {
        return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + Repr.pyBool(bias() != null);
    }
}

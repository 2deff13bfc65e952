package dev.ember.nn;

import dev.ember.tensor.Tensor;

/**
 * Normalisation over the trailing {@code normalizedShape} dims of each sample, as
 * {@code nn.LayerNorm}: (x - mean) / sqrt(var + eps) with the biased variance, then an
 * element-wise weight (1) and bias (0) of that shape when {@code elementwiseAffine}.
 */
public class LayerNorm extends Module {
    private final long[] normalizedShape;
    private final double eps;

    /** Over the last dim, of size {@code normalizedShape}. */
    public LayerNorm(long normalizedShape) { this(new long[] {normalizedShape}); }

    public LayerNorm(long[] normalizedShape) { this(normalizedShape, 1e-5, true); }

    public LayerNorm(long[] normalizedShape, double eps, boolean elementwiseAffine) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        if (elementwiseAffine) {
            registerParameter("weight", Tensor.ones(normalizedShape));
            registerParameter("bias", Tensor.zeros(normalizedShape));
        }
    }

    public Tensor weight() { return parameter("weight"); }

    public Tensor bias() { return parameter("bias"); }

    @Override
    public Tensor forward(Tensor input) { return Functional.layerNorm(input, normalizedShape, weight(), bias(), eps); }

    @Override
    protected String extraRepr() {
        return Repr.tuple(normalizedShape) + ", eps=" + Repr.pyFloat(eps) + ", elementwise_affine=" + Repr.pyBool(weight() != null);
    }
}

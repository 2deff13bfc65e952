package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** Average pooling of NCHW input to a fixed output size whatever the input's, as {@code nn.AdaptiveAvgPool2d}. */
public class AdaptiveAvgPool2d extends Module {
    private final Size2 outputSize;

    /** A square output. */
    public AdaptiveAvgPool2d(int outputSize) { this.outputSize = Size2.of(outputSize); }

    /** @param outputSize one value for both dims or {height, width} */
    public AdaptiveAvgPool2d(int[] outputSize) { this.outputSize = Size2.of("output_size", outputSize); }

    @Override
    public Tensor forward(Tensor input) { return Functional.adaptiveAvgPool2d(input, outputSize.toArray()); }

    @Override
    protected String extraRepr() { return "output_size=" + outputSize; }
}

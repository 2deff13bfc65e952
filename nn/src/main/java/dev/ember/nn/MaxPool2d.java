package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** The maximum over each window of NCHW input, as {@code nn.MaxPool2d}; the stride defaults to the window. */
public class MaxPool2d extends Module {
    private final Size2 kernelSize;
    private final Size2 stride;
    private final Size2 padding;
    private final Size2 dilation;
    private final boolean ceilMode;

    public MaxPool2d(int kernelSize) { this(kernelSize, kernelSize, 0); }

    public MaxPool2d(int kernelSize, int stride, int padding) {
        this(Size2.of(kernelSize), Size2.of(stride), Size2.of(padding), Size2.of(1), false);
    }

    /**
     * @param kernelSize, stride, padding, dilation one value for both dims or {height, width}; stride null for the kernel size
     * @param ceilMode round the output size up rather than down
     */
    public MaxPool2d(int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        this(Size2.of("kernel_size", kernelSize), stride == null ? Size2.of("kernel_size", kernelSize) : Size2.of("stride", stride),
                Size2.of("padding", padding), Size2.of("dilation", dilation), ceilMode);
    }

    private MaxPool2d(Size2 kernelSize, Size2 stride, Size2 padding, Size2 dilation, boolean ceilMode) {
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.ceilMode = ceilMode;
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.maxPool2d(input, kernelSize.toArray(), stride.toArray(), padding.toArray(), dilation.toArray(), ceilMode);
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + kernelSize + ", stride=" + stride + ", padding=" + padding + ", dilation=" + dilation
                + ", ceil_mode=" + Repr.pyBool(ceilMode);
    }
}

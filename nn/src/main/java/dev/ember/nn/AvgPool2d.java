package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** The mean over each window of NCHW input, as {@code nn.AvgPool2d}; the stride defaults to the window. */
public class AvgPool2d extends Module {
    private final Size2 kernelSize;
    private final Size2 stride;
    private final Size2 padding;
    private final boolean ceilMode;
    private final boolean countIncludePad;

    public AvgPool2d(int kernelSize) { this(kernelSize, kernelSize, 0); }

    public AvgPool2d(int kernelSize, int stride, int padding) {
        this(Size2.of(kernelSize), Size2.of(stride), Size2.of(padding), false, true);
    }

    /**
     * @param kernelSize, stride, padding one value for both dims or {height, width}; stride null for the kernel size
     * @param ceilMode round the output size up rather than down
     * @param countIncludePad whether the zero padding counts in each window's mean
     */
    public AvgPool2d(int[] kernelSize, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        this(Size2.of("kernel_size", kernelSize), stride == null ? Size2.of("kernel_size", kernelSize) : Size2.of("stride", stride),
                Size2.of("padding", padding), ceilMode, countIncludePad);
    }

    private AvgPool2d(Size2 kernelSize, Size2 stride, Size2 padding, boolean ceilMode, boolean countIncludePad) {
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.avgPool2d(input, kernelSize.toArray(), stride.toArray(), padding.toArray(), ceilMode, countIncludePad);
    }

    /** PyTorch's AvgPool2d repr leaves ceil_mode and count_include_pad out, and so does this one. */
    @Override
    protected String extraRepr() {
        return "kernel_size=" + kernelSize + ", stride=" + stride + ", padding=" + padding;
    }
}

package dev.ember.nn;

import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;

/**
 * 2-D convolution over NCHW input, as {@code nn.Conv2d}: weight [out, in / groups, kh, kw],
 * bias [out], initialised from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in / groups * kh * kw.
 */
public class Conv2d extends Module {
    private final long inChannels;
    private final long outChannels;
    private final Size2 kernelSize;
    private final Size2 stride;
    private final Size2 padding;
    private final Size2 dilation;
    private final int groups;

    /** A square kernel, stride 1, no padding. */
    public Conv2d(long inChannels, long outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    public Conv2d(long inChannels, long outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, stride, padding, 1, 1, true);
    }

    public Conv2d(long inChannels, long outChannels, int kernelSize, int stride, int padding, int dilation, int groups,
                  boolean bias) {
        this(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {dilation},
                groups, bias, Generator.defaultGenerator());
    }

    /**
     * @param kernelSize, stride, padding, dilation one value for both dims or {height, width}
     * @param generator the source of the initial values
     */
    public Conv2d(long inChannels, long outChannels, int[] kernelSize, int[] stride, int[] padding, int[] dilation, int groups,
                  boolean bias, Generator generator) {
        if (groups <= 0) throw new IllegalArgumentException("groups must be a positive integer");
        if (inChannels % groups != 0) throw new IllegalArgumentException("in_channels must be divisible by groups");
        if (outChannels % groups != 0) throw new IllegalArgumentException("out_channels must be divisible by groups");
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = Size2.of("kernel_size", kernelSize);
        this.stride = Size2.of("stride", stride);
        this.padding = Size2.of("padding", padding);
        this.dilation = Size2.of("dilation", dilation);
        this.groups = groups;
        registerParameter("weight", Tensor.empty(outChannels, inChannels / groups, this.kernelSize.height(), this.kernelSize.width()));
        if (bias) registerParameter("bias", Tensor.empty(outChannels));
        resetParameters(generator);
    }

    /** Draws fresh initial values, as at construction. */
    public void resetParameters(Generator generator) {
        Init.linearLayerDefaults(weight(), bias(), generator);
    }

    public Tensor weight() { return parameter("weight"); }

    /** The bias, or null for a layer made without one. */
    public Tensor bias() { return parameter("bias"); }

    @Override
    public Tensor forward(Tensor input) {
        return Functional.conv2d(input, weight(), bias(), stride.toArray(), padding.toArray(), dilation.toArray(), groups);
    }

    /** As PyTorch: the arguments that differ from their defaults are shown, always as pairs. */
    @Override
    protected String extraRepr() {
        StringBuilder s = new StringBuilder(inChannels + ", " + outChannels + ", kernel_size=" + kernelSize.pair()
                + ", stride=" + stride.pair());
        if (padding.height() != 0 || padding.width() != 0) s.append(", padding=").append(padding.pair());
        if (dilation.height() != 1 || dilation.width() != 1) s.append(", dilation=").append(dilation.pair());
        if (groups != 1) s.append(", groups=").append(groups);
        if (bias() == null) s.append(", bias=False");
        return s.toString();
    }
}

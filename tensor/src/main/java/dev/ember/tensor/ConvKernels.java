package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuConv;
import dev.ember.tensor.cpu.CpuConvGeometry;
import java.util.Arrays;

/**
 * 2-D convolution (torch.nn.functional.conv2d) and its three gradients, over NCHW float32 or
 * float64 tensors of any layout (on CUDA also float16 and bfloat16); a 3-D input is one
 * unbatched image. Arguments are checked in PyTorch's order with its messages, then the work
 * is done by {@link CpuConv} on the host or by cuDNN ({@link CudaConv}) on a CUDA device.
 *
 * <p>stride, padding and dilation take one value (used for both dims) or two (height, width).
 */
final class ConvKernels {
    private ConvKernels() {}

    /** conv2d(input, weight, bias, stride, padding, dilation, groups); {@code bias} may be null. */
    static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        input.checkOpen();
        weight.checkOpen();
        if (bias != null) bias.checkOpen();
        Device device = CudnnCalls.sameDevice(input, weight, bias);
        CpuConvGeometry g = geometry(input.shape, weight.shape, bias == null ? null : bias.shape, stride, padding, dilation, groups);
        DType t = checkTypes(input.dtype, weight.dtype, bias == null ? null : bias.dtype, device);
        if (device.isCuda()) return CudaConv.forward(g, t, input, weight, bias, outputShape(input.dim(), g));
        Tensor out = Tensor.empty(t, outputShape(input.dim(), g));
        if (out.numel() == 0) return out;
        try (Tensor x = input.contiguousAs(t); Tensor w = weight.contiguousAs(t);
             Tensor b = bias == null ? null : bias.contiguousAs(t)) {
            CpuConv.forward(t, g, x.data(), x.offset, w.data(), w.offset,
                    b == null ? null : b.data(), b == null ? 0 : b.offset, out.data(), out.offset);
        }
        return out;
    }

    /** The gradient of conv2d with respect to its input, of shape {@code inputShape}. */
    static Tensor conv2dBackwardInput(Tensor gradOut, Tensor weight, long[] inputShape, int[] stride, int[] padding,
            int[] dilation, int groups) {
        gradOut.checkOpen();
        weight.checkOpen();
        Device device = CudnnCalls.sameDevice(gradOut, weight);
        CpuConvGeometry g = geometry(inputShape, weight.shape, null, stride, padding, dilation, groups);
        DType t = sameType(checkFloating(weight.dtype, device), gradOut.dtype);
        checkGradOut(gradOut, inputShape.length, g);
        if (device.isCuda()) return CudaConv.backwardData(g, t, gradOut, weight, inputShape);
        Tensor dx = Tensor.zeros(t, inputShape);
        if (dx.numel() == 0 || g.outChannels() == 0) return dx;
        try (Tensor dy = gradOut.contiguousAs(t); Tensor w = weight.contiguousAs(t)) {
            CpuConv.backwardInput(t, g, dy.data(), dy.offset, w.data(), w.offset, dx.data(), dx.offset);
        }
        return dx;
    }

    /** The gradient of conv2d with respect to its weight, of shape {@code weightShape}. */
    static Tensor conv2dBackwardWeight(Tensor gradOut, Tensor input, long[] weightShape, int[] stride, int[] padding,
            int[] dilation, int groups) {
        return conv2dBackwardWeightAndBias(gradOut, input, weightShape, stride, padding, dilation, groups, false)[0];
    }

    /**
     * The gradients of conv2d with respect to its weight and, with {@code bias}, its bias: {dw,
     * db or null}. On the CPU the float32 weight kernels sum dy into db as they read it, sparing a
     * pass over dy; elsewhere db is {@link #conv2dBackwardBias}.
     */
    static Tensor[] conv2dBackwardWeightAndBias(Tensor gradOut, Tensor input, long[] weightShape, int[] stride,
            int[] padding, int[] dilation, int groups, boolean bias) {
        gradOut.checkOpen();
        input.checkOpen();
        Device device = CudnnCalls.sameDevice(gradOut, input);
        CpuConvGeometry g = geometry(input.shape, weightShape, null, stride, padding, dilation, groups);
        DType t = sameType(checkFloating(input.dtype, device), gradOut.dtype);
        checkGradOut(gradOut, input.dim(), g);
        if (device.isCuda()) {
            return new Tensor[] {CudaConv.backwardFilter(g, t, gradOut, input, weightShape), bias ? conv2dBackwardBias(gradOut) : null};
        }
        Tensor dw = Tensor.empty(t, weightShape);
        double[] db = bias ? new double[g.outChannels()] : null;
        boolean summed = false;
        if (dw.numel() != 0) {
            try (Tensor dy = gradOut.contiguousAs(t); Tensor x = input.contiguousAs(t)) {
                summed = CpuConv.backwardWeight(t, g, dy.data(), dy.offset, x.data(), x.offset, dw.data(), dw.offset, db);
            }
        }
        if (!bias) return new Tensor[] {dw, null};
        return new Tensor[] {dw, summed ? BatchNormKernels.vector(t, db) : conv2dBackwardBias(gradOut)};
    }

    /** The gradient of conv2d with respect to its bias: gradOut summed over batch, height and width. */
    static Tensor conv2dBackwardBias(Tensor gradOut) {
        gradOut.checkOpen();
        int rank = gradOut.dim();
        if (rank != 3 && rank != 4) {
            throw new IllegalArgumentException("Expected 3D (unbatched) or 4D (batched) grad_output for conv2d's bias,"
                    + " but got grad_output of size: " + Shapes.format(gradOut.shape));
        }
        DType t = checkFloating(gradOut.dtype, gradOut.device());
        if (rank == 4) return BatchNormKernels.channelSums(gradOut, t);
        try (Tensor batched = gradOut.unsqueeze(0)) {
            return BatchNormKernels.channelSums(batched, t);
        }
    }

    /** [N, Cout, Ho, Wo], or [Cout, Ho, Wo] for an unbatched input. */
    private static long[] outputShape(int inputRank, CpuConvGeometry g) {
        return inputRank == 4 ? new long[] {g.batch(), g.outChannels(), g.outH(), g.outW()}
                : new long[] {g.outChannels(), g.outH(), g.outW()};
    }

    /**
     * Checks input and weight shapes and the parameters as PyTorch's conv2d does (in its order,
     * with its messages) and sizes the convolution.
     */
    private static CpuConvGeometry geometry(long[] inputShape, long[] ws, long[] biasShape, int[] stride, int[] padding,
            int[] dilation, int groups) {
        if (inputShape.length != 3 && inputShape.length != 4) {
            throw new IllegalArgumentException("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
                    + Shapes.format(inputShape));
        }
        long[] in = inputShape.length == 4 ? inputShape : new long[] {1, inputShape[0], inputShape[1], inputShape[2]};
        int[] s = pair("stride", stride), p = pair("padding", padding), d = pair("dilation", dilation);
        if (ws.length != 4) {
            throw new IllegalArgumentException("expected stride to be a single integer value or a list of " + (ws.length - 2)
                    + " values to match the convolution dimensions, but got stride=" + Arrays.toString(s));
        }
        if (groups <= 0) throw new IllegalArgumentException("non-positive groups is not supported");
        if (p[0] < 0 || p[1] < 0) throw new IllegalArgumentException("negative padding is not supported");
        if (s[0] <= 0 || s[1] <= 0) throw new IllegalArgumentException("non-positive stride is not supported");
        if (d[0] <= 0 || d[1] <= 0) throw new IllegalArgumentException("non-positive dilation is not supported");
        if (ws[0] < groups) {
            throw new IllegalArgumentException("Given groups=" + groups + ", expected weight to be at least " + groups
                    + " at dimension 0, but got weight of size " + Shapes.format(ws) + " instead");
        }
        if (ws[0] % groups != 0) {
            throw new IllegalArgumentException("Given groups=" + groups + ", expected weight to be divisible by " + groups
                    + " at dimension 0, but got weight of size [" + Shapes.format(ws) + "] instead");
        }
        if (in[1] != ws[1] * groups) {
            throw new IllegalArgumentException("Given groups=" + groups + ", weight of size " + Shapes.format(ws)
                    + ", expected input" + Shapes.format(in) + " to have " + ws[1] * groups + " channels, but got "
                    + in[1] + " channels instead");
        }
        if (biasShape != null && (biasShape.length != 1 || biasShape[0] != ws[0])) {
            throw new IllegalArgumentException("Given weight of size " + Shapes.format(ws)
                    + ", expected bias to be 1-dimensional with " + ws[0] + " elements, but got bias of size "
                    + Shapes.format(biasShape) + " instead");
        }
        long[] padded = {in[2] + 2L * p[0], in[3] + 2L * p[1]};
        long[] kernel = {d[0] * (ws[2] - 1) + 1, d[1] * (ws[3] - 1) + 1};
        if (padded[0] < kernel[0] || padded[1] < kernel[1]) {
            throw new IllegalArgumentException("Calculated padded input size per channel: (" + padded[0] + " x " + padded[1]
                    + "). Kernel size: (" + kernel[0] + " x " + kernel[1] + "). Kernel size can't be greater than actual input size");
        }
        if (ws[2] <= 0 || ws[3] <= 0) {
            throw new IllegalArgumentException("kernel size should be greater than zero, but got kernel_height: " + ws[2]
                    + " kernel_width: " + ws[3]);
        }
        long outH = (padded[0] - kernel[0]) / s[0] + 1, outW = (padded[1] - kernel[1]) / s[1] + 1;
        return new CpuConvGeometry(Math.toIntExact(in[0]), Math.toIntExact(in[1]), Math.toIntExact(in[2]), Math.toIntExact(in[3]),
                Math.toIntExact(ws[0]), Math.toIntExact(ws[2]), Math.toIntExact(ws[3]), s[0], s[1], p[0], p[1], d[0], d[1],
                groups, Math.toIntExact(outH), Math.toIntExact(outW));
    }

    /** One value for both dims, or (height, width). */
    private static int[] pair(String name, int[] v) {
        if (v != null && v.length == 1) return new int[] {v[0], v[0]};
        if (v != null && v.length == 2) return v.clone();
        throw new IllegalArgumentException("expected " + name + " to be a single integer value or a list of 2 values to match"
                + " the convolution dimensions, but got " + name + "=" + (v == null ? "null" : Arrays.toString(v)));
    }

    /** The gradient of the output must have the output's shape. */
    private static void checkGradOut(Tensor gradOut, int inputRank, CpuConvGeometry g) {
        long[] expected = outputShape(inputRank, g);
        if (!Arrays.equals(gradOut.shape, expected)) {
            throw new IllegalArgumentException("Expected grad_output of size " + Shapes.format(expected)
                    + " for conv2d, but got grad_output of size " + Shapes.format(gradOut.shape));
        }
    }

    /** The dtype of the computation: input, weight and bias must agree, and be floating (see {@link #checkFloating}). */
    private static DType checkTypes(DType t, DType weight, DType bias, Device device) {
        if (weight != t && t == DType.FLOAT32) {
            throw new IllegalArgumentException("Input type (" + legacyName(t) + ") and weight type (" + legacyName(weight)
                    + ") should be the same or input should be a MKLDNN tensor and weight is a dense tensor");
        }
        sameType(t, weight);
        if (bias != null && bias != t) {
            throw new IllegalArgumentException("Input type (" + cName(t) + ") and bias type (" + cName(bias)
                    + ") should be the same");
        }
        return checkFloating(t, device);
    }

    /** PyTorch's general message for an operand (a weight, a gradient) whose dtype is not t. */
    private static DType sameType(DType t, DType other) {
        if (other != t) {
            throw new IllegalArgumentException("expected scalar type " + TypePromotion.scalarTypeName(t) + " but found "
                    + TypePromotion.scalarTypeName(other));
        }
        return t;
    }

    /** float32 or float64 on the host; on CUDA also float16 and bfloat16, which cuDNN takes. */
    private static DType checkFloating(DType t, Device device) {
        if (device.isCuda() ? !t.isFloatingPoint() : t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException("\"" + (device.isCuda() ? "cudnn_convolution" : "slow_conv2d_cpu")
                    + "\" not implemented for '" + TypePromotion.scalarTypeName(t) + "'");
        }
        return t;
    }

    /** torch.FloatTensor and so on, as PyTorch names tensor types in its input/weight message. */
    private static String legacyName(DType t) {
        return "torch." + TypePromotion.scalarTypeName(t) + "Tensor";
    }

    /** The C++ name of an element type, as PyTorch prints it in its input/bias message. */
    private static String cName(DType t) {
        return switch (t) {
            case FLOAT32 -> "float";
            case FLOAT64 -> "double";
            case FLOAT16 -> "c10::Half";
            case BFLOAT16 -> "c10::BFloat16";
            case INT64 -> "long";
            case INT32 -> "int";
            case UINT8 -> "unsigned char";
            case BOOL -> "bool";
        };
    }
}

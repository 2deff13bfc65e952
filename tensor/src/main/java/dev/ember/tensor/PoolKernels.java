package dev.ember.tensor;

import dev.ember.tensor.cpu.CpuPoolAvg;
import dev.ember.tensor.cpu.CpuPoolAxis;
import dev.ember.tensor.cpu.CpuPoolMax;
import java.util.Arrays;

/**
 * 2-D max, average and adaptive average pooling and their gradients over NCHW float32 or
 * float64 tensors of any layout (a 3-D input is one unbatched [C, H, W] image), with PyTorch's
 * output sizes (ceil mode included), argument checks and messages. Kernel, stride, padding and
 * dilation take one value for both dims or (height, width); a null or empty stride means the
 * kernel size.
 */
final class PoolKernels {
    private PoolKernels() {}

    /** The pooled values and, for each, the flat index of its maximum within its input plane (int64). */
    record PoolResult(Tensor output, Tensor indices) implements AutoCloseable {
        @Override
        public void close() {
            output.close();
            indices.close();
        }
    }

    /** The sizes of one pooling call: planes (batch × channels) of inH × inW, pooled by the two axes. */
    private record Plan(long[] inputShape, long planes, int inH, int inW, CpuPoolAxis h, CpuPoolAxis w) {
        long[] outputShape() {
            long[] s = inputShape.clone();
            s[s.length - 2] = h.outSize();
            s[s.length - 1] = w.outSize();
            return s;
        }
    }

    static PoolResult maxPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        input.checkOpen();
        int[] k = pair(kernel, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints");
        int[] s = stride(stride, k, "max_pool2d");
        int[] p = pair(padding, "max_pool2d: padding must either be a single int, or a tuple of two ints");
        int[] d = pair(dilation, "max_pool2d: dilation must be either a single int, or a tuple of two ints");
        if (input.dim() != 3 && input.dim() != 4) {
            throw new IllegalArgumentException("non-empty 3D or 4D (batch mode) tensor expected for input");
        }
        Plan plan = plan(input.shape, k, s, p, d, ceilMode,
                (in, out, axis) -> CpuPoolAxis.max(in, out, k[axis], s[axis], p[axis], d[axis]));
        DType t = checkFloating(input.dtype, "max_pool2d");
        Tensor out = Tensor.empty(t, plan.outputShape());
        Tensor indices = Tensor.empty(DType.INT64, plan.outputShape());
        if (out.numel() == 0) return new PoolResult(out, indices);
        try (Tensor x = input.contiguousAs(t)) {
            CpuPoolMax.forward(t, plan.planes, plan.inH, plan.inW, plan.h, plan.w, x.data(), x.offset,
                    out.data(), out.offset, indices.data(), indices.offset);
        }
        return new PoolResult(out, indices);
    }

    /** The gradient of max_pool2d: each output's gradient goes to the input its index names. */
    static Tensor maxPool2dBackward(Tensor gradOut, Tensor indices, long[] inputShape) {
        gradOut.checkOpen();
        indices.checkOpen();
        int rank = inputShape.length;
        if (rank != 3 && rank != 4) {
            throw new IllegalArgumentException("non-empty 3D or 4D (batch mode) tensor expected for input");
        }
        if (indices.dtype != DType.INT64) {
            throw new IllegalArgumentException("expected indices to have dtype Long, but got "
                    + TypePromotion.scalarTypeName(indices.dtype));
        }
        if (indices.dim() != rank || !Arrays.equals(indices.shape, 0, rank - 2, inputShape, 0, rank - 2)) {
            throw new IllegalArgumentException("Expected indices of size [" + leading(inputShape) + "*, *] for an input of size "
                    + Shapes.format(inputShape) + ", but got indices of size " + Shapes.format(indices.shape));
        }
        checkGradOut(gradOut, indices.shape);
        DType t = checkFloating(gradOut.dtype, "max_pool2d_with_indices_backward");
        long planes = planes(inputShape);
        if (planes * indices.shape[rank - 2] * indices.shape[rank - 1] == 0) return Tensor.zeros(t, inputShape);
        Tensor dx = Tensor.empty(t, inputShape);
        try (Tensor dy = gradOut.contiguousAs(t); Tensor idx = indices.contiguousAs(DType.INT64)) {
            CpuPoolMax.backward(t, planes, Math.toIntExact(inputShape[rank - 2]), Math.toIntExact(inputShape[rank - 1]),
                    Math.toIntExact(indices.shape[rank - 2]), Math.toIntExact(indices.shape[rank - 1]),
                    dy.data(), dy.offset, idx.data(), idx.offset, dx.data(), dx.offset);
        }
        return dx;
    }

    static Tensor avgPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        input.checkOpen();
        Plan plan = avgPlan(input.shape, kernel, stride, padding, ceilMode, countIncludePad);
        DType t = checkFloating(input.dtype, "avg_pool2d");
        Tensor out = Tensor.empty(t, plan.outputShape());
        if (out.numel() == 0) return out;
        try (Tensor x = input.contiguousAs(t)) {
            CpuPoolAvg.forward(t, plan.planes, plan.inH, plan.inW, plan.h, plan.w, x.data(), x.offset, out.data(), out.offset);
        }
        return out;
    }

    static Tensor avgPool2dBackward(Tensor gradOut, long[] inputShape, int[] kernel, int[] stride, int[] padding,
            boolean ceilMode, boolean countIncludePad) {
        gradOut.checkOpen();
        Plan plan = avgPlan(inputShape, kernel, stride, padding, ceilMode, countIncludePad);
        checkGradOut(gradOut, plan.outputShape());
        DType t = checkFloating(gradOut.dtype, "avg_pool2d_backward_cpu");
        return spread(t, gradOut, plan);
    }

    static Tensor adaptiveAvgPool2d(Tensor input, int[] outputSize) {
        input.checkOpen();
        if (outputSize != null && outputSize.length == 1) outputSize = new int[] {outputSize[0], outputSize[0]};
        if (outputSize == null || outputSize.length != 2) {
            throw new IllegalArgumentException("adaptive_avg_pool2d: output_size must be 2");
        }
        if (outputSize[0] < 0 || outputSize[1] < 0) {
            throw new IllegalArgumentException("adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0"
                    + " but received {" + outputSize[0] + ", " + outputSize[1] + "}");
        }
        Plan plan = adaptivePlan(input.shape, outputSize[0], outputSize[1]);
        DType t = checkFloating(input.dtype, "adaptive_avg_pool2d");
        Tensor out = Tensor.empty(t, plan.outputShape());
        if (out.numel() == 0) return out;
        try (Tensor x = input.contiguousAs(t)) {
            CpuPoolAvg.forward(t, plan.planes, plan.inH, plan.inW, plan.h, plan.w, x.data(), x.offset, out.data(), out.offset);
        }
        return out;
    }

    /** The gradient of adaptive_avg_pool2d; the output size is gradOut's last two dims, as PyTorch. */
    static Tensor adaptiveAvgPool2dBackward(Tensor gradOut, long[] inputShape) {
        gradOut.checkOpen();
        int rank = gradOut.dim();
        if (rank != inputShape.length || !Arrays.equals(gradOut.shape, 0, rank - 2, inputShape, 0, rank - 2)) {
            throw new IllegalArgumentException("adaptive_avg_pool2d_backward(): Expected grad_output of size [" + leading(inputShape)
                    + "*, *] for an input of size " + Shapes.format(inputShape) + ", but got grad_output of size "
                    + Shapes.format(gradOut.shape));
        }
        Plan plan = adaptivePlan(inputShape, Math.toIntExact(gradOut.shape[rank - 2]), Math.toIntExact(gradOut.shape[rank - 1]));
        DType t = checkFloating(gradOut.dtype, "adaptive_avg_pool2d_backward_cpu");
        return spread(t, gradOut, plan);
    }

    /** The average-pooling gradient: each output's gradient spread evenly over its window. */
    private static Tensor spread(DType t, Tensor gradOut, Plan plan) {
        Tensor dx = Tensor.zeros(t, plan.inputShape);
        if (dx.numel() == 0) return dx;
        try (Tensor dy = gradOut.contiguousAs(t)) {
            CpuPoolAvg.backward(t, plan.planes, plan.inH, plan.inW, plan.h, plan.w, dy.data(), dy.offset, dx.data(), dx.offset);
        }
        return dx;
    }

    private static Plan avgPlan(long[] inputShape, int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean includePad) {
        int[] k = pair(kernel, "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints");
        int[] s = stride(stride, k, "avg_pool2d");
        int[] p = pair(padding, "avg_pool2d: padding must either be a single int, or a tuple of two ints");
        Shapes.wrapDim(-3, inputShape.length); // PyTorch reads the channel count as size(-3) first
        return plan(inputShape, k, s, p, new int[] {1, 1}, ceilMode,
                (in, out, axis) -> CpuPoolAxis.avg(in, out, k[axis], s[axis], p[axis], includePad));
    }

    private static Plan adaptivePlan(long[] inputShape, int outH, int outW) {
        int rank = inputShape.length;
        if (rank != 3 && rank != 4) {
            throw new IllegalArgumentException("adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got " + Shapes.format(inputShape));
        }
        for (int i = rank - 2; i < rank; i++) {
            if (inputShape[i] == 0) {
                throw new IllegalArgumentException("adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch"
                        + " dimensions, but input has sizes " + Shapes.format(inputShape) + " with dimension " + i + " being empty");
            }
        }
        int inH = Math.toIntExact(inputShape[rank - 2]), inW = Math.toIntExact(inputShape[rank - 1]);
        return new Plan(inputShape.clone(), planes(inputShape), inH, inW, CpuPoolAxis.adaptive(inH, outH), CpuPoolAxis.adaptive(inW, outW));
    }

    /** Builds the windows of one axis (0 height, 1 width) of in positions pooled to out. */
    @FunctionalInterface
    private interface AxisMaker {
        CpuPoolAxis make(int in, int out, int axis);
    }

    /** Output sizes with PyTorch's shape checks, in its order, for a fixed-window pool. */
    private static Plan plan(long[] inputShape, int[] k, int[] s, int[] p, int[] d, boolean ceilMode, AxisMaker axes) {
        int rank = inputShape.length;
        long planes = planes(inputShape), channels = inputShape[rank - 3];
        long inH = inputShape[rank - 2], inW = inputShape[rank - 1];
        long outH = outputSize(inH, k[0], p[0], s[0], d[0], ceilMode), outW = outputSize(inW, k[1], p[1], s[1], d[1], ceilMode);
        if (k[0] <= 0 || k[1] <= 0) {
            throw new IllegalArgumentException("kernel size should be greater than zero, but got kH: " + k[0] + " kW: " + k[1]);
        }
        if (s[0] <= 0 || s[1] <= 0) {
            throw new IllegalArgumentException("stride should be greater than zero, but got dH: " + s[0] + " dW: " + s[1]);
        }
        if (d[0] <= 0 || d[1] <= 0) {
            throw new IllegalArgumentException("dilation should be greater than zero, but got dilationH: " + d[0]
                    + " dilationW: " + d[1]);
        }
        boolean validDims = inputShape[rank - 3] != 0 && inputShape[rank - 2] != 0;
        if (!(rank == 3 && inputShape[0] != 0 && validDims || rank == 4 && validDims && inputShape[3] != 0)) {
            throw new IllegalArgumentException("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input,"
                    + " but got:" + Shapes.format(inputShape));
        }
        if (k[1] / 2 < p[1] || k[0] / 2 < p[0]) {
            throw new IllegalArgumentException("pad should be smaller than or equal to half of kernel size, but got padW = "
                    + p[1] + ", padH = " + p[0] + ", kW = " + k[1] + ", kH = " + k[0]);
        }
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException("Given input size: (" + channels + "x" + inH + "x" + inW + "). Calculated output size: ("
                    + channels + "x" + outH + "x" + outW + "). Output size is too small");
        }
        int h = Math.toIntExact(inH), w = Math.toIntExact(inW);
        return new Plan(inputShape.clone(), planes, h, w, axes.make(h, (int) outH, 0), axes.make(w, (int) outW, 1));
    }

    /** PyTorch's pooling_output_shape, with its checks on stride and padding. */
    private static long outputSize(long in, int kernel, int pad, int stride, int dilation, boolean ceilMode) {
        if (stride == 0) throw new IllegalArgumentException("stride should not be zero");
        if (pad < 0) throw new IllegalArgumentException("pad must be non-negative, but got pad: " + pad);
        if (pad > kernel / 2) {
            throw new IllegalArgumentException("pad should be at most half of kernel size, but got pad=" + pad
                    + " and kernel_size=" + kernel);
        }
        long out = Math.floorDiv(in + 2L * pad - (long) dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0), (long) stride) + 1;
        // in ceil mode the last window must start inside the input or its left padding
        if (ceilMode && (out - 1) * stride >= in + pad) out--;
        return out;
    }

    private static int[] pair(int[] v, String message) {
        if (v != null && v.length == 1) return new int[] {v[0], v[0]};
        if (v != null && v.length == 2) return v.clone();
        throw new IllegalArgumentException(message);
    }

    private static int[] stride(int[] stride, int[] kernel, String op) {
        if (stride == null || stride.length == 0) return kernel.clone();
        return pair(stride, op + ": stride must either be omitted, a single int, or a tuple of two ints");
    }

    private static long planes(long[] shape) {
        return shape.length == 4 ? shape[0] * shape[1] : shape[0];
    }

    /** "N, C, " or "C, ": the dims before height and width, for messages. */
    private static String leading(long[] shape) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shape.length - 2; i++) sb.append(shape[i]).append(", ");
        return sb.toString();
    }

    /** gradOut must have the output's shape; reported per dim as PyTorch's check_dim_size does. */
    private static void checkGradOut(Tensor gradOut, long[] expected) {
        int ndim = expected.length;
        for (int d = 0; d < ndim; d++) {
            if (gradOut.dim() != ndim || gradOut.shape[d] != expected[d]) {
                throw new IllegalArgumentException("Expected a tensor of dimension " + ndim + " and tensor.size[" + d + "] == "
                        + expected[d] + " but got: dimension " + gradOut.dim() + " and tensor.size[" + d + "] = "
                        + (d < gradOut.dim() ? gradOut.shape[d] : "?"));
            }
        }
    }

    private static DType checkFloating(DType t, String op) {
        if (t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException("\"" + op + "\" not implemented for '" + TypePromotion.scalarTypeName(t) + "'");
        }
        return t;
    }
}

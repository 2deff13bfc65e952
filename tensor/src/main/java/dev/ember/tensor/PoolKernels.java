package dev.ember.tensor;

import dev.ember.memory.Device;
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
 *
 * <p>On a CUDA device (where float16 and bfloat16 are taken too) the checked call runs on
 * cuDNN ({@link CudaPool}), which cannot dilate or add ceil mode's partial windows (those fail
 * with a message) and pools adaptively only where the input divides into equal windows. Max
 * pooling there returns no indices: its gradient is
 * {@link #maxPool2dBackward(Tensor, Tensor, Tensor, int[], int[], int[], int[], boolean)}, from
 * the forward's input and output.
 */
final class PoolKernels {
    private PoolKernels() {}

    /**
     * The pooled values and, for each, the flat index of its maximum within its input plane
     * (int64); on CUDA indices is null (cuDNN's gradient needs the input and output instead).
     */
    record PoolResult(Tensor output, Tensor indices) implements AutoCloseable {
        @Override
        public void close() {
            output.close();
            if (indices != null) indices.close();
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
        int[][] window = maxWindow(kernel, stride, padding, dilation);
        int[] k = window[0], s = window[1], p = window[2], d = window[3];
        if (input.dim() != 3 && input.dim() != 4) {
            throw new IllegalArgumentException("non-empty 3D or 4D (batch mode) tensor expected for input");
        }
        Plan plan = maxPlan(input.shape, k, s, p, d, ceilMode);
        DType t = checkFloating(input.dtype, "max_pool2d", input.device());
        if (input.isCuda()) {
            CudaPool.checkExpressible("max_pool2d", plan.inH, plan.inW, plan.h.outSize(), plan.w.outSize(), k, s, p, d, ceilMode);
            return new PoolResult(CudaPool.max(input, t, plan.outputShape(), k, s, p), null);
        }
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
        DType t = checkFloating(gradOut.dtype, "max_pool2d_with_indices_backward", Device.cpu());
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

    /**
     * The gradient of max_pool2d on CUDA, where cuDNN finds each window's maximum again from the
     * forward's input and output (same pooling arguments as the forward).
     */
    static Tensor maxPool2dBackward(Tensor gradOut, Tensor input, Tensor output, int[] kernel, int[] stride, int[] padding,
            int[] dilation, boolean ceilMode) {
        gradOut.checkOpen();
        input.checkOpen();
        output.checkOpen();
        Device device = CudnnCalls.sameDevice(gradOut, input, output);
        int[][] window = maxWindow(kernel, stride, padding, dilation);
        int[] k = window[0], s = window[1], p = window[2], d = window[3];
        if (input.dim() != 3 && input.dim() != 4) {
            throw new IllegalArgumentException("non-empty 3D or 4D (batch mode) tensor expected for input");
        }
        Plan plan = maxPlan(input.shape, k, s, p, d, ceilMode);
        checkGradOut(gradOut, plan.outputShape());
        checkGradOut(output, plan.outputShape());
        DType t = checkFloating(gradOut.dtype, "max_pool2d_with_indices_backward", device);
        if (!device.isCuda()) {
            throw new IllegalArgumentException("max_pool2d's gradient from input and output is cuDNN's; on the CPU it"
                    + " takes the forward's indices");
        }
        CudaPool.checkExpressible("max_pool2d", plan.inH, plan.inW, plan.h.outSize(), plan.w.outSize(), k, s, p, d, ceilMode);
        return CudaPool.maxBackward(gradOut, input, output, t, k, s, p);
    }

    static Tensor avgPool2d(Tensor input, int[] kernel, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        input.checkOpen();
        Window win = avgWindow(kernel, stride, padding);
        Plan plan = avgPlan(input.shape, win, ceilMode, countIncludePad);
        DType t = checkFloating(input.dtype, "avg_pool2d", input.device());
        if (input.isCuda()) {
            CudaPool.checkExpressible("avg_pool2d", plan.inH, plan.inW, plan.h.outSize(), plan.w.outSize(), win.k, win.s, win.p,
                    new int[] {1, 1}, ceilMode);
            return CudaPool.avg(input, t, plan.outputShape(), win.k, win.s, win.p, countIncludePad);
        }
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
        Window win = avgWindow(kernel, stride, padding);
        Plan plan = avgPlan(inputShape, win, ceilMode, countIncludePad);
        checkGradOut(gradOut, plan.outputShape());
        DType t = checkFloating(gradOut.dtype, "avg_pool2d_backward_cpu", gradOut.device());
        if (gradOut.isCuda()) {
            CudaPool.checkExpressible("avg_pool2d", plan.inH, plan.inW, plan.h.outSize(), plan.w.outSize(), win.k, win.s, win.p,
                    new int[] {1, 1}, ceilMode);
            return CudaPool.avgBackward(gradOut, t, inputShape, win.k, win.s, win.p, countIncludePad);
        }
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
        DType t = checkFloating(input.dtype, "adaptive_avg_pool2d", input.device());
        if (input.isCuda()) {
            if (Shapes.numel(plan.outputShape()) == 0) return Tensor.empty(input.device(), t, plan.outputShape());
            Window win = adaptiveWindow(plan, "adaptive_avg_pool2d");
            return CudaPool.avg(input, t, plan.outputShape(), win.k, win.s, win.p, false);
        }
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
        DType t = checkFloating(gradOut.dtype, "adaptive_avg_pool2d_backward_cpu", gradOut.device());
        if (gradOut.isCuda()) {
            if (gradOut.numel() == 0) return Tensor.zeros(gradOut.device(), t, inputShape);
            Window win = adaptiveWindow(plan, "adaptive_avg_pool2d_backward");
            return CudaPool.avgBackward(gradOut, t, inputShape, win.k, win.s, win.p, false);
        }
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

    /** A pooling window's kernel, stride and padding, each {height, width}. */
    private record Window(int[] k, int[] s, int[] p) {}

    private static Window avgWindow(int[] kernel, int[] stride, int[] padding) {
        int[] k = pair(kernel, "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints");
        int[] s = stride(stride, k, "avg_pool2d");
        int[] p = pair(padding, "avg_pool2d: padding must either be a single int, or a tuple of two ints");
        return new Window(k, s, p);
    }

    /** max_pool2d's kernel, stride, padding and dilation as {height, width} pairs, with its messages. */
    private static int[][] maxWindow(int[] kernel, int[] stride, int[] padding, int[] dilation) {
        int[] k = pair(kernel, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints");
        int[] s = stride(stride, k, "max_pool2d");
        int[] p = pair(padding, "max_pool2d: padding must either be a single int, or a tuple of two ints");
        int[] d = pair(dilation, "max_pool2d: dilation must be either a single int, or a tuple of two ints");
        return new int[][] {k, s, p, d};
    }

    private static Plan maxPlan(long[] inputShape, int[] k, int[] s, int[] p, int[] d, boolean ceilMode) {
        return plan(inputShape, k, s, p, d, ceilMode, (in, out, axis) -> CpuPoolAxis.max(in, out, k[axis], s[axis], p[axis], d[axis]));
    }

    private static Plan avgPlan(long[] inputShape, Window win, boolean ceilMode, boolean includePad) {
        int[] k = win.k, s = win.s, p = win.p;
        Shapes.wrapDim(-3, inputShape.length); // PyTorch reads the channel count as size(-3) first
        return plan(inputShape, k, s, p, new int[] {1, 1}, ceilMode,
                (in, out, axis) -> CpuPoolAxis.avg(in, out, k[axis], s[axis], p[axis], includePad));
    }

    /**
     * Adaptive average pooling as a fixed window, which cuDNN can run, when each input size is a
     * multiple of its output size (global pooling to 1x1 included): the windows are then
     * in/out wide, side by side, unpadded. Other sizes fail with a message.
     */
    private static Window adaptiveWindow(Plan plan, String op) {
        int outH = plan.h.outSize(), outW = plan.w.outSize();
        if (plan.inH % outH != 0 || plan.inW % outW != 0) {
            throw new UnsupportedOperationException(op + " on CUDA: an input of " + plan.inH + "x" + plan.inW
                    + " does not divide into " + outH + "x" + outW + " equal windows, which is all cuDNN pooling can express;"
                    + " choose an output size that divides the input, or pool on the CPU");
        }
        int[] k = {plan.inH / outH, plan.inW / outW};
        return new Window(k, k.clone(), new int[] {0, 0});
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

    /** float32 or float64 on the host; on CUDA also float16 and bfloat16, which cuDNN takes. */
    private static DType checkFloating(DType t, String op, Device device) {
        if (device.isCuda() ? !t.isFloatingPoint() : t != DType.FLOAT32 && t != DType.FLOAT64) {
            throw new IllegalArgumentException("\"" + op + "\" not implemented for '" + TypePromotion.scalarTypeName(t) + "'");
        }
        return t;
    }
}

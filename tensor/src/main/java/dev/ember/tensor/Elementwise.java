package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuElementwise;
import dev.ember.tensor.cpu.Elements;
import dev.ember.tensor.cpu.Parallel;
import dev.ember.tensor.cpu.VectorLoops;
import java.lang.foreign.ValueLayout;

/**
 * Runs elementwise op declarations on tensors: result dtype by PyTorch's promotion, broadcast
 * shape, in-place checks, then the backend kernel.
 */
final class Elementwise {
    private Elementwise() {}

    static Tensor unary(Tensor x, UnaryOp op) {
        x.checkOpen();
        DType out = op.resultType(x.dtype);
        if (x.isCuda()) {
            Tensor result = Tensor.empty(x.device(), out, x.shape);
            cudaUnary(op, x, result);
            return Graph.unary(x, result, op);
        }
        Tensor result = Tensor.empty(out, x.shape);
        try {
            if (x.dtype == DType.FLOAT32 && out == DType.FLOAT32 && op.vector() != null && x.isContiguous()) {
                contiguousFloat(x, op, result);
            } else {
                CpuElementwise.unary(op, computeType(op, x.dtype), x.shape, result.operand(), x.operand());
            }
        } catch (RuntimeException e) { // e.g. an integer to a negative power: free the result now
            result.close();
            throw e;
        }
        return Graph.unary(x, result, op);
    }

    /** Contiguous float32 with no iteration set-up: what most ops in a training step are. */
    private static void contiguousFloat(Tensor x, UnaryOp op, Tensor result) {
        long n = x.numel();
        var sx = x.data();
        var so = result.data();
        long xo = x.offset * 4;
        if (n < VectorLoops.F.length()) {
            for (long i = 0; i < n; i++) {
                double r = op.math().applyAsDouble(sx.get(ValueLayout.JAVA_FLOAT_UNALIGNED, xo + i * 4));
                so.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4, (float) r);
            }
        } else if (n < Parallel.GRAIN) {
            op.vector().apply(sx, xo, so, 0, n);
        } else {
            Parallel.forRange(n, Parallel.GRAIN, (s, e) -> op.vector().apply(sx, xo + s * 4, so, s * 4, e - s));
        }
    }

    static Tensor unaryInPlace(Tensor x, UnaryOp op) {
        x.checkOpen();
        checkInPlaceGrad(x, null);
        checkCast(op.resultType(x.dtype), x.dtype);
        checkNoInternalOverlap(x);
        if (x.isCuda()) {
            cudaUnary(op, x, x);
        } else {
            CpuElementwise.unary(op, computeType(op, x.dtype), x.shape, x.operand(), x.operand());
        }
        x.bumpVersion();
        return x;
    }

    /**
     * result = op(x) on x's CUDA device. The kernel computes in the output's dtype (an integer
     * input of a floating op is converted first), or in the input's for bool-valued ops.
     */
    private static void cudaUnary(UnaryOp op, Tensor x, Tensor result) {
        DType out = op.resultType(x.dtype);
        DType kernelType = out == DType.BOOL ? x.dtype : out;
        if (result.dtype != out) { // in place into a tensor of another dtype: compute, then convert back
            try (Tensor r = Tensor.empty(x.device(), out, x.shape)) {
                cudaUnary(op, x, r);
                Tensor.copyElements(result, r, r.strides);
            }
            return;
        }
        Tensor in = x.dtype == kernelType ? x : x.contiguousAs(kernelType);
        try {
            CudaOps.unary(op, kernelType, result, in, op.p0(), op.p1());
        } finally {
            if (in != x) in.close();
        }
    }

    /**
     * The device all of an op's tensors are on. A 0-d host tensor (a scalar) goes with any
     * device, as in PyTorch; anything else on two devices fails with PyTorch's message.
     */
    static Device commonDevice(Tensor... ts) {
        Device found = null;
        for (Tensor t : ts) {
            Device d = t.device();
            if (d.isCpu() && t.dim() == 0) continue;
            if (found == null) found = d; else checkSameDevice(found, d);
        }
        return found != null ? found : Device.cpu();
    }

    /** PyTorch's error for operands on two devices, the first one found named first. */
    static void checkSameDevice(Device found, Device other) {
        if (!found.equals(other)) {
            throw new IllegalArgumentException("Expected all tensors to be on the same device, but found at least two"
                    + " devices, " + found + " and " + other + "!");
        }
    }

    /**
     * out = a (op) b on their CUDA device; both inputs are converted to the kernel's dtype (the
     * op's compute type) first where they differ, and a 0-d host operand is moved over.
     */
    private static void cudaBinary(BinaryOp op, DType kernelType, Tensor out, Tensor a, Tensor b) {
        if (roundedToKernelType(a, kernelType) || roundedToKernelType(b, kernelType)) {
            // A scalar operand that float16/bfloat16 cannot hold exactly (x_bf16 * 0.1): PyTorch and
            // the CPU compute in float32 with the scalar as a float, so this does too, not with the
            // scalar rounded to the narrow type first.
            DType wide = kernelType.computeType();
            if (out.dtype != kernelType) { // a comparison: its bool result takes the float32 kernel as it is
                cudaBinary(op, wide, out, a, b);
                return;
            }
            try (Tensor wideOut = Scope.escape(Tensor.empty(out.device(), wide, out.shape))) {
                cudaBinary(op, wide, wideOut, a, b);
                Tensor.copyElements(out, wideOut, wideOut.strides);
            }
            return;
        }
        Device d = out.device();
        Tensor ca = onDeviceAs(a, d, kernelType), cb = onDeviceAs(b, d, kernelType);
        try {
            CudaOps.binary(op, kernelType, out, ca, Shapes.broadcastStrides(ca.shape, ca.strides, out.shape),
                    cb, Shapes.broadcastStrides(cb.shape, cb.strides, out.shape), op.alpha());
        } finally {
            if (ca != a) ca.close();
            if (cb != b) cb.close();
        }
    }

    /**
     * A 0-d integer operand of a wider integer dtype than the result's, cast (wrapping) to it, as
     * PyTorch casts operands to the common dtype before computing: uint8 maximum(2, -3) is
     * maximum(2, 253) = 253, not 2. The CUDA path gets this from its conversion to the kernel's dtype.
     */
    private static Tensor wrappedToIntegral(Tensor t, DType promoted) {
        if (t.dim() != 0 || t.dtype == promoted || promoted.isFloatingPoint() || promoted == DType.BOOL
                || t.dtype.isFloatingPoint() || t.dtype == DType.BOOL) {
            return t;
        }
        Tensor wrapped = Scope.escape(Tensor.full0d(promoted, 0));
        Elements.putLong(wrapped.storage.segment(), promoted, 0, t.itemLong()); // (byte) / (int): two's-complement wrap
        return wrapped;
    }

    /**
     * Whether a 0-d operand would lose its value on conversion to a float16/bfloat16 kernel type.
     * A host scalar is looked at (cheap); a device one is judged by its dtype, to read nothing back.
     */
    private static boolean roundedToKernelType(Tensor t, DType kernelType) {
        if (t.dim() != 0 || t.dtype == kernelType || kernelType.computeType() == kernelType) return false;
        if (t.isCuda()) return t.dtype != DType.BOOL && t.dtype != DType.UINT8;
        double v = t.item();
        float f = (float) v;
        double narrow = kernelType == DType.FLOAT16 ? Float.float16ToFloat(Float.floatToFloat16(f))
                : Elements.bf16ToFloat(Elements.floatToBf16(f));
        return narrow != v && !Double.isNaN(v);
    }

    /** t itself when it is on d with dtype type, else an unscoped copy there in that dtype (the caller closes it). */
    private static Tensor onDeviceAs(Tensor t, Device d, DType type) {
        if (t.device().equals(d)) return t.dtype == type ? t : t.contiguousAs(type);
        Tensor moved = Tensor.empty(d, type, t.shape);
        Scope.escape(moved);
        if (t.dim() == 0 && fillsExactly(t, type)) {
            // a host scalar travels as the fill kernel's argument: no copy from pageable memory to stage
            CudaOps.fill(moved, t.item());
        } else {
            Tensor.copyElements(moved, t, t.strides);
        }
        return moved;
    }

    /** Whether the fill kernel, which takes its value as a double, gives a 0-d tensor's value in {@code type}. */
    private static boolean fillsExactly(Tensor scalar, DType type) {
        if (type.isFloatingPoint() || type == DType.BOOL || scalar.dtype.isFloatingPoint() || scalar.dtype == DType.BOOL) {
            return true; // a float value converts as the cast kernel would; a bool is 0 or 1
        }
        long v = scalar.itemLong();
        return Math.abs(v) <= 1L << 53; // integers beyond 2^53 do not survive the trip through a double
    }

    /** The dtype a unary op computes in: integer math where the op keeps integers, else float. */
    private static DType computeType(UnaryOp op, DType in) {
        DType out = op.resultType(in);
        if (out == DType.BOOL) return in.isFloatingPoint() ? in.computeType() : DType.INT64;
        return out.computeType();
    }

    /**
     * a (op) b with broadcasting. {@code scalarType} is non-null when b stands for a Java scalar,
     * which then only matters to the result type through its category.
     */
    static Tensor binary(Tensor a, Tensor b, BinaryOp op, DType scalarType) {
        a.checkOpen();
        b.checkOpen();
        DType promoted = scalarType != null ? TypePromotion.resultType(a, scalarType) : TypePromotion.resultType(a, b);
        DType compute = op.computeType(promoted).computeType();
        DType outType = op.resultType(promoted);
        Device device = commonDevice(a, b);
        if (device.isCuda()) {
            Tensor out = Tensor.empty(device, outType, Shapes.broadcast(a.shape, b.shape));
            try {
                cudaBinary(op, op.computeType(promoted), out, a, b);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return Graph.binary(a, b, out, op, scalarType != null);
        }
        if (a.dtype == DType.FLOAT32 && b.dtype == DType.FLOAT32 && outType == DType.FLOAT32 && op.vector() != null
                && a.isContiguous() && b.isContiguous() && java.util.Arrays.equals(a.shape, b.shape)) {
            return Graph.binary(a, b, contiguousFloat(a, b, op), op, scalarType != null);
        }
        long[] shape = Shapes.broadcast(a.shape, b.shape);
        Tensor out = Tensor.empty(outType, shape);
        Tensor ca = wrappedToIntegral(a, promoted), cb = wrappedToIntegral(b, promoted);
        try {
            CpuElementwise.binary(op, compute, shape, out.operand(), ca.operand(shape), cb.operand(shape));
        } catch (RuntimeException e) { // e.g. integer division by zero: free the result now
            out.close();
            throw e;
        } finally {
            if (ca != a) ca.close();
            if (cb != b) cb.close();
        }
        return Graph.binary(a, b, out, op, scalarType != null);
    }

    /** The common case with no broadcasting or striding: straight Vector API loops, no iteration set-up. */
    private static Tensor contiguousFloat(Tensor a, Tensor b, BinaryOp op) {
        Tensor out = Tensor.empty(DType.FLOAT32, a.shape);
        long n = out.numel();
        var sa = a.data();
        var sb = b.data();
        var so = out.data();
        long ao = a.offset * 4, bo = b.offset * 4;
        if (n < VectorLoops.F.length()) {
            // shorter than one vector: masked vector ops cost more than a few scalar ones
            for (long i = 0; i < n; i++) {
                double r = op.math().applyAsDouble(sa.get(ValueLayout.JAVA_FLOAT_UNALIGNED, ao + i * 4),
                        sb.get(ValueLayout.JAVA_FLOAT_UNALIGNED, bo + i * 4));
                so.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4, (float) r);
            }
        } else if (n < Parallel.GRAIN) {
            op.vector().apply(sa, ao, false, sb, bo, false, so, 0, n);
        } else {
            Parallel.forRange(n, Parallel.GRAIN, (s, e) ->
                    op.vector().apply(sa, ao + s * 4, false, sb, bo + s * 4, false, so, s * 4, e - s));
        }
        return out;
    }

    static Tensor binaryInPlace(Tensor a, Tensor b, BinaryOp op, DType scalarType) {
        a.checkOpen();
        b.checkOpen();
        checkInPlaceGrad(a, b);
        DType promoted = scalarType != null ? TypePromotion.resultType(a, scalarType) : TypePromotion.resultType(a, b);
        checkCast(op.resultType(promoted), a.dtype);
        long[] shape = Shapes.broadcast(a.shape, b.shape);
        if (!java.util.Arrays.equals(shape, a.shape)) {
            throw new IllegalArgumentException("output with shape " + Shapes.format(a.shape)
                    + " doesn't match the broadcast shape " + Shapes.format(shape));
        }
        checkNoInternalOverlap(a);
        // an input that overlaps the output in another layout would be read after being written
        Tensor src = b.sharesStorageWith(a) && !sameGeometry(a, b) ? b.clone() : b;
        try {
            if (commonDevice(a, src).isCuda()) {
                DType kernelType = op.computeType(promoted);
                if (kernelType == a.dtype) {
                    cudaBinary(op, kernelType, a, a, src);
                } else { // e.g. an int tensor += a bool one computes in int64: compute, then convert back
                    try (Tensor r = Tensor.empty(a.device(), op.resultType(promoted), shape)) {
                        cudaBinary(op, kernelType, r, a, src);
                        Tensor.copyElements(a, r, r.strides);
                    }
                }
            } else {
                Tensor wrapped = wrappedToIntegral(src, promoted);
                try {
                    CpuElementwise.binary(op, op.computeType(promoted).computeType(), shape, a.operand(), a.operand(shape),
                            wrapped.operand(shape));
                } finally {
                    if (wrapped != src) wrapped.close();
                }
            }
        } finally {
            if (src != b) src.close();
        }
        a.bumpVersion();
        return a;
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        cond.checkOpen();
        a.checkOpen();
        b.checkOpen();
        if (cond.dtype != DType.BOOL && cond.dtype != DType.UINT8) {
            throw new IllegalArgumentException("where expected condition to be a boolean tensor, but got a tensor with dtype "
                    + TypePromotion.scalarTypeName(cond.dtype));
        }
        long[] shape = Shapes.broadcast(Shapes.broadcast(cond.shape, a.shape), b.shape);
        Device device = commonDevice(cond, a, b);
        Tensor out = Tensor.empty(device, TypePromotion.resultType(a, b), shape);
        if (device.isCuda()) {
            Tensor cc = onDeviceAs(cond, device, DType.BOOL), ca = onDeviceAs(a, device, out.dtype),
                    cb = onDeviceAs(b, device, out.dtype);
            try {
                CudaOps.where(out, cc, Shapes.broadcastStrides(cc.shape, cc.strides, shape), ca,
                        Shapes.broadcastStrides(ca.shape, ca.strides, shape), cb, Shapes.broadcastStrides(cb.shape, cb.strides, shape));
            } finally {
                if (cc != cond) cc.close();
                if (ca != a) ca.close();
                if (cb != b) cb.close();
            }
        } else {
            CpuElementwise.where(shape, out.operand(), cond.operand(shape), a.operand(shape), b.operand(shape));
        }
        long[] aShape = a.shape, bShape = b.shape;
        DType aType = a.dtype, bType = b.dtype;
        return Graph.record(out, "WhereBackward0", (g, s) -> {
            Tensor zero = Tensor.zerosLike(g);
            return new Tensor[] {Graph.castTo(where(s[0], g, zero).sumToSize(aShape), aType),
                    Graph.castTo(where(s[0], zero, g).sumToSize(bShape), bType)};
        }, new Tensor[] {a, b}, cond);
    }

    static boolean sameGeometry(Tensor a, Tensor b) {
        return a.offset == b.offset && java.util.Arrays.equals(a.shape, b.shape) && java.util.Arrays.equals(a.strides, b.strides)
                && a.dtype == b.dtype;
    }

    /**
     * In-place ops are not recorded: with grad mode on, writing into a tensor that takes part in a
     * graph (or from one) would silently lose gradient. Leaves get PyTorch's message.
     */
    static void checkInPlaceGrad(Tensor target, Tensor source) {
        if (!GradMode.isEnabled()) return;
        if (target.requiresGrad() && target.isLeaf()) {
            throw new IllegalStateException("a leaf Variable that requires grad is being used in an in-place operation.");
        }
        if (target.requiresGrad() || source != null && source.requiresGrad()) {
            throw new UnsupportedOperationException("in-place operations on tensors that are part of an autograd graph are not"
                    + " supported; use the out-of-place form (e.g. add instead of add_), or run under Ember.noGrad()");
        }
    }

    static void checkCast(DType result, DType out) {
        if (!TypePromotion.canCast(result, out)) {
            throw new IllegalArgumentException("result type " + TypePromotion.scalarTypeName(result)
                    + " can't be cast to the desired output type " + TypePromotion.scalarTypeName(out));
        }
    }

    /** An expanded tensor has elements that share memory; writing to it in place is refused, as PyTorch. */
    static void checkNoInternalOverlap(Tensor t) {
        for (int d = 0; d < t.shape.length; d++) {
            if (t.strides[d] == 0 && t.shape[d] > 1) {
                throw new IllegalArgumentException("unsupported operation: more than one element of the written-to tensor refers"
                        + " to a single memory location. Please clone() the tensor before performing the operation.");
            }
        }
    }
}

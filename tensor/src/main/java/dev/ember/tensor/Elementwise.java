package dev.ember.tensor;

import dev.ember.tensor.cpu.CpuElementwise;
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
        CpuElementwise.unary(op, computeType(op, x.dtype), x.shape, x.operand(), x.operand());
        x.bumpVersion();
        return x;
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
        if (a.dtype == DType.FLOAT32 && b.dtype == DType.FLOAT32 && outType == DType.FLOAT32 && op.vector() != null
                && a.isContiguous() && b.isContiguous() && java.util.Arrays.equals(a.shape, b.shape)) {
            return Graph.binary(a, b, contiguousFloat(a, b, op), op, scalarType != null);
        }
        long[] shape = Shapes.broadcast(a.shape, b.shape);
        Tensor out = Tensor.empty(outType, shape);
        try {
            CpuElementwise.binary(op, compute, shape, out.operand(), a.operand(shape), b.operand(shape));
        } catch (RuntimeException e) { // e.g. integer division by zero: free the result now
            out.close();
            throw e;
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
            CpuElementwise.binary(op, op.computeType(promoted).computeType(), shape, a.operand(), a.operand(shape), src.operand(shape));
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
        Tensor out = Tensor.empty(TypePromotion.resultType(a, b), shape);
        CpuElementwise.where(shape, out.operand(), cond.operand(shape), a.operand(shape), b.operand(shape));
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

package dev.ember.tensor;

/**
 * Records autograd nodes as ops run. An op calls {@link #record} after computing its result;
 * nothing is recorded unless grad mode is on and some input requires grad, so inference pays
 * one flag test per op.
 */
final class Graph {
    private Graph() {}

    static boolean needsGrad(Tensor a) {
        return a.requiresGrad() && GradMode.isEnabled();
    }

    static boolean needsGrad(Tensor a, Tensor b) {
        return (a.requiresGrad() || b != null && b.requiresGrad()) && GradMode.isEnabled();
    }

    static boolean needsGrad(Tensor... inputs) {
        if (!GradMode.isEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /**
     * Makes {@code out} the output of a node named {@code name} over {@code inputs} (null
     * entries are not differentiated), saving {@code saved} for backward. Returns {@code out}.
     */
    static Tensor record(Tensor out, String name, Node.Backward backward, Tensor[] inputs, Tensor... saved) {
        return record(out, name, backward, true, inputs, saved);
    }

    /** As {@link #record}, for ops whose backward is a fused kernel that is not itself differentiable. */
    static Tensor recordFirstOrder(Tensor out, String name, Node.Backward backward, Tensor[] inputs, Tensor... saved) {
        return record(out, name, backward, false, inputs, saved);
    }

    private static Tensor record(Tensor out, String name, Node.Backward backward, boolean differentiableBackward,
                                 Tensor[] inputs, Tensor[] saved) {
        if (!needsGrad(inputs) || !out.dtype.isFloatingPoint()) return out;
        Node[] next = new Node[inputs.length];
        for (int i = 0; i < inputs.length; i++) next[i] = inputs[i] == null ? null : inputs[i].gradEdge();
        SavedTensor[] s = new SavedTensor[saved.length];
        for (int i = 0; i < saved.length; i++) s[i] = saved[i] == null ? null : new SavedTensor(saved[i], saved[i] == out);
        out.setGradFn(Node.op(name, (g, unpacked) -> backward.apply(g, unpacked), next, s, differentiableBackward));
        return out;
    }

    /** A unary elementwise op from its declaration. */
    static Tensor unary(Tensor x, Tensor y, UnaryOp op) {
        UnaryOp.Grad grad = op.grad();
        if (grad == null || !needsGrad(x)) return y;
        return record(y, backwardName(op.name()), (g, s) -> new Tensor[] {castTo(grad.formula().apply(g, s[0], s[1]), x.dtype)},
                new Tensor[] {x}, grad.needsInput() ? x : null, grad.needsOutput() ? y : null);
    }

    /**
     * A binary elementwise op from its declaration; gradients are summed back to each input's
     * shape. When {@code b} stands for a Java scalar it is not saved (the op's caller frees it):
     * backward makes a fresh one from its value.
     */
    static Tensor binary(Tensor a, Tensor b, Tensor y, BinaryOp op, boolean bIsScalar) {
        BinaryOp.Grad grad = op.grad();
        // comparisons and logical ops give bool: not differentiable, recorded as nothing (as PyTorch)
        if (!needsGrad(a, b) || !y.dtype.isFloatingPoint()) return y;
        if (grad == null) {
            throw new UnsupportedOperationException("the derivative for '" + op.name() + "' is not implemented.");
        }
        long[] aShape = a.shape, bShape = b.shape;
        DType aType = a.dtype, bType = b.dtype;
        double scalar = bIsScalar ? b.item() : 0;
        boolean saveB = grad.needsInputs() && !bIsScalar;
        return record(y, backwardName(op.name()), (g, s) -> {
            Tensor bValue = bIsScalar ? Tensor.scalar(bType, scalar) : s[1];
            Tensor[] grads = grad.formula().apply(g, s[0], bValue, s[2]);
            Tensor gb = bIsScalar ? null : castTo(grads[1].sumToSize(bShape), bType);
            return new Tensor[] {castTo(grads[0].sumToSize(aShape), aType), gb};
        }, new Tensor[] {a, bIsScalar ? null : b}, grad.needsInputs() ? a : null, saveB ? b : null,
                grad.needsOutput() ? y : null);
    }

    /** Runs {@code impl} with recording off: an op's internals must not record nodes of their own. */
    static <T> T untracked(java.util.function.Supplier<T> impl) {
        try (var off = GradMode.set(false)) {
            return impl.get();
        }
    }

    /** The wrapped dims a reduction over {@code dims} (empty = all) of a rank-{@code rank} tensor covers, ascending. */
    static int[] reducedDims(int[] dims, int rank) {
        if (dims.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = Shapes.wrapDim(dims[i], rank);
        java.util.Arrays.sort(d);
        return d;
    }

    /** A reduction's output gradient put back in the reduced dims (unsqueezed unless keepdim), not yet expanded. */
    static Tensor unreduce(Tensor g, long[] inShape, int[] dims, boolean keepdim) {
        if (keepdim || inShape.length == 0) return g;
        Tensor r = g;
        for (int d : reducedDims(dims, inShape.length)) r = r.unsqueeze(d);
        return r;
    }

    /** A reduction's output gradient broadcast back over the input's shape. */
    static Tensor expandReduced(Tensor g, long[] inShape, int[] dims, boolean keepdim) {
        return unreduce(g, inShape, dims, keepdim).expand(inShape);
    }

    /** {@code relu} becomes {@code ReluBackward0}, as PyTorch names its nodes. */
    static String backwardName(String op) {
        StringBuilder sb = new StringBuilder();
        for (String part : op.split("_")) {
            if (!part.isEmpty()) sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return sb.append("Backward0").toString();
    }

    static Tensor castTo(Tensor g, DType type) {
        return g.dtype == type || !type.isFloatingPoint() ? g : g.to(type);
    }
}

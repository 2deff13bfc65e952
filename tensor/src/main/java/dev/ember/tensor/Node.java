package dev.ember.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One recorded operation of the autograd graph: its backward function, the nodes its inputs came
 * from (one edge per input; null where the input needs no gradient), the tensors it saved, and
 * the hooks registered on its output. Leaves that require grad get an accumulating node of their
 * own ({@link #isAccumulator()}), shared by every use of that leaf. The engine that runs nodes
 * lives in the autograd module.
 */
public final class Node {
    /** Computes the gradients of an op's inputs from the gradient of its output. */
    @FunctionalInterface
    public interface Backward {
        /**
         * @param grad  the gradient of the op's output
         * @param saved the tensors saved at record time, checked and unpacked
         * @return one gradient per input (null where an input needs none)
         */
        Tensor[] apply(Tensor grad, Tensor[] saved);
    }

    private final String name;
    private final Backward backward;
    private final Node[] next;
    private SavedTensor[] saved;
    private final Tensor leaf;
    private final List<UnaryOperator<Tensor>> hooks = new ArrayList<>(0);
    private final StackTraceElement[] createdAt;
    private final boolean differentiableBackward;
    private boolean released;

    private Node(String name, Backward backward, Node[] next, SavedTensor[] saved, Tensor leaf, boolean differentiableBackward) {
        this.name = name;
        this.backward = backward;
        this.next = next;
        this.saved = saved;
        this.leaf = leaf;
        this.differentiableBackward = differentiableBackward;
        this.createdAt = GradMode.isAnomalyEnabled() ? new Throwable().getStackTrace() : null;
    }

    static Node op(String name, Backward backward, Node[] next, SavedTensor[] saved, boolean differentiableBackward) {
        return new Node(name, backward, next, saved, null, differentiableBackward);
    }

    static Node accumulator(Tensor leaf) {
        return new Node("AccumulateGrad", null, new Node[0], new SavedTensor[0], leaf, true);
    }

    /** The op's name in PyTorch's style, e.g. {@code MulBackward0}. */
    public String name() { return name; }

    /** The nodes the op's inputs came from, one per input; null entries need no gradient. */
    public Node[] next() { return next; }

    /** Whether this node accumulates into a leaf's {@code grad} instead of computing input grads. */
    public boolean isAccumulator() { return leaf != null; }

    /** The leaf an accumulating node writes into. */
    public Tensor leaf() { return leaf; }

    /** Where the op was recorded, when anomaly mode was on then; else null. */
    public StackTraceElement[] createdAt() { return createdAt; }

    /** Whether backward through this node may itself be recorded (create_graph); false for fused kernels. */
    public boolean hasDifferentiableBackward() { return differentiableBackward; }

    /** Hooks run on the gradient of this node's output before it is used, in registration order. */
    public List<UnaryOperator<Tensor>> hooks() { return hooks; }

    void addHook(UnaryOperator<Tensor> hook) { hooks.add(hook); }

    /** Runs the op's backward on {@code grad}; fails, as PyTorch, if the graph was already freed. */
    public Tensor[] apply(Tensor grad) {
        if (released) {
            throw new IllegalStateException("Trying to backward through the graph a second time (or directly access saved"
                    + " tensors after they have already been freed). Saved intermediate values of the graph are freed when"
                    + " you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through"
                    + " the graph a second time or if you need to access saved tensors after calling backward.");
        }
        Tensor[] unpacked = new Tensor[saved.length];
        for (int i = 0; i < saved.length; i++) unpacked[i] = saved[i] == null ? null : saved[i].unpack(this);
        return backward.apply(grad, unpacked);
    }

    /** Drops the saved tensors (after a backward without retain_graph). */
    public void release() {
        if (leaf != null) return;
        released = true;
        saved = new SavedTensor[0];
    }

    @Override
    public String toString() { return "<" + name + ">"; }
}

package dev.ember.autograd;

import dev.ember.tensor.Node;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** The functional autograd API, as torch.autograd. {@code tensor.backward()} is the usual entry. */
public final class Autograd {
    private Autograd() {}

    /**
     * The gradients of {@code outputs} (weighted by {@code gradOutputs}, null entries meaning 1
     * for one-element outputs) with respect to {@code inputs}, returned instead of accumulated
     * into {@code grad}, as torch.autograd.grad. An input the outputs do not depend on fails
     * unless {@code allowUnused}, in which case its gradient is null. Only the part of the graph
     * between the outputs and the inputs runs (and is released unless {@code retainGraph}). The
     * gradients are new tensors owned by the caller's scope, like any op's result.
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean retainGraph, boolean createGraph, boolean allowUnused) {
        Map<Node, Tensor> capture = new IdentityHashMap<>();
        for (Tensor in : inputs) {
            Node edge = in.gradEdge();
            if (edge == null) throw new IllegalArgumentException("One of the differentiated Tensors does not require grad");
            capture.put(edge, null);
        }
        List<Tensor> gradList = gradOutputs == null ? Collections.nCopies(outputs.size(), null) : gradOutputs;
        for (int i = 0; i < outputs.size(); i++) {
            if (gradList.get(i) == null && outputs.get(i).numel() != 1) {
                throw new IllegalStateException("grad can be implicitly created only for scalar outputs");
            }
        }
        // The captured gradients must outlive the engine's scope when it has one: copy them, and the
        // engine moves the copies to the caller's scope.
        Map<Node, Tensor> kept = new IdentityHashMap<>();
        Engine.run(outputs, gradList, retainGraph, createGraph, new CapturingMap(capture, kept, createGraph));
        List<Tensor> result = new ArrayList<>();
        for (Tensor in : inputs) {
            Tensor g = kept.get(in.gradEdge());
            if (g == null && !allowUnused) {
                throw new IllegalStateException("One of the differentiated Tensors appears to not have been used in the graph."
                        + " Set allow_unused=True if this is the desired behavior.");
            }
            result.add(g);
        }
        return result;
    }

    /** grad of one scalar output with respect to {@code inputs}. */
    public static List<Tensor> grad(Tensor output, List<Tensor> inputs) {
        return grad(List.of(output), inputs, null, false, false, false);
    }

    /**
     * Records which nodes to capture, and keeps a copy of what arrives (the engine's scope closes the
     * original; the engine keeps the copy, moving it to the caller's scope).
     */
    private static final class CapturingMap extends java.util.AbstractMap<Node, Tensor> {
        private final Map<Node, Tensor> targets;
        private final Map<Node, Tensor> kept;
        private final boolean createGraph;

        CapturingMap(Map<Node, Tensor> targets, Map<Node, Tensor> kept, boolean createGraph) {
            this.targets = targets;
            this.kept = kept;
            this.createGraph = createGraph;
        }

        @Override
        public boolean containsKey(Object key) { return targets.containsKey(key); }

        @Override
        public Tensor put(Node key, Tensor value) {
            Tensor copy = createGraph ? value : detachedCopy(value);
            Tensor previous = kept.put(key, copy);
            if (previous != null && previous != copy) previous.close();
            return previous;
        }

        @Override
        public java.util.Set<Entry<Node, Tensor>> entrySet() { return kept.entrySet(); }

        private static Tensor detachedCopy(Tensor g) {
            try (Tensor alias = g.detach()) {
                return alias.clone();
            }
        }
    }
}

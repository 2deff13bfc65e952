package dev.ember.autograd;

import dev.ember.tensor.BackwardEngine;
import dev.ember.tensor.Ember;
import dev.ember.tensor.GradMode;
import dev.ember.tensor.Node;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Shapes;
import dev.ember.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a recorded graph backwards. It first counts, for every node reachable from the roots,
 * how many edges lead into it; then it runs a node once all of those have delivered their
 * gradient (summed), with an explicit work queue, so a chain of 100,000 ops needs no deep
 * stack. Gradients for leaves are accumulated into their {@code grad}; intermediate gradients
 * live in a scope closed at the end (unless the backward pass is itself recorded).
 */
public final class Engine implements BackwardEngine {

    @Override
    public void backward(List<Tensor> roots, List<Tensor> grads, boolean retainGraph, boolean createGraph) {
        run(roots, grads, retainGraph, createGraph, null);
    }

    /**
     * Runs backward from {@code roots}. With {@code capture} non-null, the gradients arriving at
     * the captured nodes are stored in it instead of being accumulated into leaves.
     */
    static void run(List<Tensor> roots, List<Tensor> grads, boolean retainGraph, boolean createGraph,
                    Map<Node, Tensor> capture) {
        // When the backward pass is recorded, its intermediates are part of the new graph and
        // must outlive this call: the caller's scope owns them then.
        Scope scope = createGraph ? null : Ember.scope();
        try (var mode = createGraph ? Ember.enableGrad() : Ember.noGrad()) {
            execute(roots, grads, retainGraph, createGraph, capture);
            // captured gradients (Autograd.grad's results) belong to the caller's scope, as any op's result
            if (scope != null && capture != null) {
                for (Tensor g : capture.values()) if (g != null) scope.keep(g);
            }
        } finally {
            if (scope != null) scope.close();
        }
    }

    private static void execute(List<Tensor> roots, List<Tensor> grads, boolean retainGraph, boolean createGraph,
                                Map<Node, Tensor> capture) {
        Map<Node, Tensor> pending = new IdentityHashMap<>();
        for (int i = 0; i < roots.size(); i++) {
            Tensor root = roots.get(i);
            Tensor g = i < grads.size() ? grads.get(i) : null;
            if (g == null) {
                g = Tensor.onesLike(root);
            } else if (!Arrays.equals(g.shape(), root.shape())) {
                throw new IllegalArgumentException("Mismatch in shape: grad_output[" + i + "] has a shape of "
                        + Shapes.format(g.shape()) + " and output[" + i + "] has a shape of " + Shapes.format(root.shape()) + ".");
            }
            Node node = root.gradEdge();
            if (node == null) {
                throw new IllegalStateException("element " + i + " of tensors does not require grad and does not have a grad_fn");
            }
            pending.merge(node, g, Tensor::add);
        }
        // Autograd.grad runs only the nodes that lead to a captured one (as PyTorch): the rest of the
        // graph is neither computed nor released.
        Map<Node, Boolean> needed = capture == null ? null : neededFor(pending.keySet(), capture);
        Map<Node, Integer> dependencies = countDependencies(pending.keySet(), needed);
        ArrayDeque<Node> ready = new ArrayDeque<>();
        for (Node n : pending.keySet()) {
            if (dependencies.getOrDefault(n, 0) == 0 && (needed == null || needed.get(n))) ready.add(n);
        }
        while (!ready.isEmpty()) {
            Node node = ready.poll();
            // a node whose inputs all sent no gradient (null) is not run, but still releases its edges,
            // so the nodes after it that do get gradients from elsewhere are not left waiting
            Tensor g = pending.remove(node);
            Tensor[] inputGrads = g == null ? null : run(node, g, retainGraph, createGraph, capture, needed);
            Node[] next = node.next();
            for (int i = 0; i < next.length; i++) {
                Node n = next[i];
                if (n == null || needed != null && !needed.get(n)) continue;
                if (inputGrads != null && inputGrads[i] != null) pending.merge(n, inputGrads[i], Tensor::add);
                if (dependencies.merge(n, -1, Integer::sum) == 0) ready.add(n);
            }
        }
    }

    /** Runs one node on its summed gradient; returns its inputs' gradients, or null where nothing flows on. */
    private static Tensor[] run(Node node, Tensor g, boolean retainGraph, boolean createGraph, Map<Node, Tensor> capture,
                                Map<Node, Boolean> needed) {
        for (var hook : List.copyOf(node.hooks())) {
            Tensor replaced = hook.apply(g);
            if (replaced != null) g = replaced;
        }
        if (capture != null && capture.containsKey(node)) {
            capture.put(node, g);
            // a captured intermediate is run on only if another captured node lies beyond it
            boolean onward = false;
            for (Node n : node.next()) onward |= n != null && needed.get(n);
            if (!onward) return null;
        }
        if (node.isAccumulator()) {
            if (capture == null) accumulate(node.leaf(), g, createGraph);
            return null;
        }
        Tensor[] inputGrads = apply(node, g, createGraph);
        if (!retainGraph) node.release();
        return inputGrads;
    }

    /**
     * For every node reachable from {@code starts}: whether a captured node is reachable from it
     * (itself included). Iterative post-order, so deep graphs need no deep stack.
     */
    private static Map<Node, Boolean> neededFor(Iterable<Node> starts, Map<Node, Tensor> capture) {
        Map<Node, Boolean> needed = new IdentityHashMap<>();
        Map<Node, Boolean> expanded = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Node s : starts) stack.push(s);
        while (!stack.isEmpty()) {
            Node node = stack.peek();
            if (needed.containsKey(node)) {
                stack.pop();
            } else if (expanded.put(node, Boolean.TRUE) == null) {
                for (Node n : node.next()) {
                    if (n != null && !needed.containsKey(n)) stack.push(n);
                }
            } else {
                stack.pop();
                boolean any = capture.containsKey(node);
                for (Node n : node.next()) any |= n != null && needed.get(n);
                needed.put(node, any);
            }
        }
        return needed;
    }

    /**
     * For every node reachable from {@code starts} (through needed nodes only, when {@code needed}
     * is given), the number of edges into it from such nodes.
     */
    private static Map<Node, Integer> countDependencies(Iterable<Node> starts, Map<Node, Boolean> needed) {
        Map<Node, Integer> deps = new IdentityHashMap<>();
        Map<Node, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Node s : starts) {
            if (seen.put(s, Boolean.TRUE) == null) stack.push(s);
        }
        while (!stack.isEmpty()) {
            Node node = stack.pop();
            for (Node n : node.next()) {
                if (n == null || needed != null && !needed.get(n)) continue;
                deps.merge(n, 1, Integer::sum);
                if (seen.put(n, Boolean.TRUE) == null) stack.push(n);
            }
        }
        return deps;
    }

    private static Tensor[] apply(Node node, Tensor g, boolean createGraph) {
        Tensor[] grads;
        try {
            if (createGraph && !node.hasDifferentiableBackward()) { // inside the try: anomaly mode says where it was made
                throw new UnsupportedOperationException("double backward through " + node.name() + " is not supported");
            }
            grads = node.apply(g);
        } catch (RuntimeException e) {
            throw Anomaly.annotate(node, e);
        }
        if (GradMode.isAnomalyEnabled()) Anomaly.checkForNan(node, grads);
        return grads;
    }

    /** Adds {@code g} into the leaf's grad: a fresh copy the first time, in place afterwards. */
    private static void accumulate(Tensor leaf, Tensor g, boolean createGraph) {
        Tensor grad = g.dtype() == leaf.dtype() ? g : g.to(leaf.dtype());
        Tensor existing = leaf.grad();
        if (existing == null) {
            // a copy: g may be shared with other leaves' gradients (add's backward returns one tensor for both
            // inputs), be the caller's own gradient or an expanded view, and dies with this pass's scope. With
            // createGraph the clone is recorded, so the grad stays differentiable.
            leaf.setGrad(grad.clone());
        } else if (createGraph) {
            leaf.setGrad(existing.add(grad));
        } else {
            existing.add_(grad);
        }
    }
}

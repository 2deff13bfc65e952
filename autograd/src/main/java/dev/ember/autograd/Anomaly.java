package dev.ember.autograd;

import dev.ember.tensor.Node;
import dev.ember.tensor.Tensor;

/** Anomaly-mode reporting: where a failing node was created, and NaN checks on its outputs. */
final class Anomaly {
    private Anomaly() {}

    /** The error from a node's backward, with the forward call that created it when known. */
    static RuntimeException annotate(Node node, RuntimeException e) {
        if (node.createdAt() == null) return e;
        return new AnomalyException("Error in " + node.name() + " during backward: " + e.getMessage()
                + "\nTraceback of forward call that caused the error:\n" + trace(node), e);
    }

    static void checkForNan(Node node, Tensor[] grads) {
        for (int i = 0; i < grads.length; i++) {
            Tensor g = grads[i];
            if (g == null) continue;
            try (Tensor nan = g.isnan(); Tensor any = nan.any()) {
                if (any.item() != 0) {
                    throw new AnomalyException("Function '" + node.name() + "' returned nan values in its " + i + "th output."
                            + (node.createdAt() == null ? "" : "\nTraceback of forward call that caused the error:\n" + trace(node)),
                            null);
                }
            }
        }
    }

    private static String trace(Node node) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : node.createdAt()) {
            String c = e.getClassName();
            if (c.startsWith("java.") || c.startsWith("jdk.")) continue;
            sb.append("    at ").append(e).append('\n');
        }
        return sb.toString();
    }

    /** Raised by anomaly mode; the message names the node and where it was created. */
    static final class AnomalyException extends RuntimeException {
        AnomalyException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

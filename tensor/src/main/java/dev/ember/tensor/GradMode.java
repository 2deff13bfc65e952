package dev.ember.tensor;

/**
 * Per-thread switches of the autograd recorder: whether ops record a graph (grad mode, on by
 * default) and whether nodes remember where they were made and backward checks for NaN
 * (anomaly mode, off by default). Change them with {@link Ember#noGrad()},
 * {@link Ember#enableGrad()} and {@link Ember#detectAnomaly()}.
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> STATE = ThreadLocal.withInitial(() -> new boolean[] {true, false});

    private GradMode() {}

    /** Whether ops on tensors that require grad record the graph now. */
    public static boolean isEnabled() { return STATE.get()[0]; }

    /** Whether anomaly detection is on for this thread. */
    public static boolean isAnomalyEnabled() { return STATE.get()[1]; }

    static Restore set(boolean enabled) { return change(0, enabled); }

    static Restore anomaly(boolean enabled) { return change(1, enabled); }

    private static Restore change(int which, boolean value) {
        boolean[] s = STATE.get();
        boolean previous = s[which];
        s[which] = value;
        return () -> s[which] = previous;
    }

    /** Puts the previous mode back when closed. */
    @FunctionalInterface
    public interface Restore extends AutoCloseable {
        @Override
        void close();
    }
}

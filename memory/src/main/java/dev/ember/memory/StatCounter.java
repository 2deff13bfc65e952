package dev.ember.memory;

/** The mutable counterpart of {@link Stat}; guarded by the owning allocator's lock. */
final class StatCounter {
    private long current;
    private long peak;
    private long allocated;
    private long freed;

    void increase(long amount) {
        current += amount;
        allocated += amount;
        if (current > peak) {
            peak = current;
        }
    }

    void decrease(long amount) {
        current -= amount;
        freed += amount;
    }

    /** Applies a signed change: positive increases, negative decreases. */
    void change(long delta) {
        if (delta > 0) {
            increase(delta);
        } else if (delta < 0) {
            decrease(-delta);
        }
    }

    void resetPeak() {
        peak = current;
    }

    long current() {
        return current;
    }

    Stat snapshot() {
        return new Stat(current, peak, allocated, freed);
    }
}

package dev.ember.nn.optim;

import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What an optimizer keeps for one parameter between steps, as an entry of PyTorch's
 * {@code optimizer.state}: named buffers of the parameter's shape (momentum, moment estimates) and
 * a step count. The buffers belong to this state, never to a scope, so they outlive the scope each
 * step runs in; {@link #close()} frees them.
 */
public final class ParamState implements AutoCloseable {
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private long step;

    /** Steps taken for this parameter; 0 until an optimizer that counts steps (Adam) takes one. */
    public long step() { return step; }

    /** Counts one more step and returns the new count. */
    public long incrementStep() { return ++step; }

    void setStep(long step) { this.step = step; }

    /** The buffer called {@code name}, or null. */
    public Tensor buffer(String name) { return buffers.get(name); }

    /** The buffer called {@code name}, made by {@code init} the first time it is asked for. */
    public Tensor buffer(String name, Supplier<Tensor> init) {
        Tensor b = buffers.get(name);
        return b != null ? b : put(name, init.get());
    }

    /**
     * Stores {@code buffer} under {@code name}, taking it out of any scope: this state closes it.
     * A buffer it replaces is closed.
     */
    public Tensor put(String name, Tensor buffer) {
        Tensor previous = buffers.put(name, Scope.escape(buffer));
        if (previous != null && previous != buffer) previous.close();
        return buffer;
    }

    /** The buffers by name, read-only, in the order they were made. */
    public Map<String, Tensor> buffers() { return Collections.unmodifiableMap(buffers); }

    /** Frees the buffers. */
    @Override
    public void close() {
        for (Tensor t : buffers.values()) t.close();
        buffers.clear();
    }
}

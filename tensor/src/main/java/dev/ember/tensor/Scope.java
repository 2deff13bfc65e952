package dev.ember.tensor;

import java.util.ArrayList;

/**
 * Closes every tensor created inside it, on this thread, when it closes, except the ones passed
 * to {@link #keep}. Scopes nest: a kept tensor moves to the enclosing scope (or to nobody, if
 * there is none), so {@code return scope.keep(result)} hands a result to the caller.
 *
 * <pre>{@code
 * try (var s = Ember.scope()) {
 *     Tensor y = x.mul(w).add(b);      // temporaries die with the scope
 *     return s.keep(y.sum());          // ...this one survives it
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final Thread owner;
    private final ArrayList<Tensor> owned = new ArrayList<>();
    private boolean closed;

    private Scope(Scope parent) {
        this.parent = parent;
        this.owner = Thread.currentThread();
    }

    static Scope open() {
        Scope s = new Scope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /** The innermost open scope on this thread, or null. */
    static Scope current() {
        return CURRENT.get();
    }

    void adopt(Tensor t) {
        owned.add(t);
        t.owner = this;
    }

    /** Keeps {@code t} alive past this scope: it moves to the enclosing scope, if any. */
    public <T extends Tensor> T keep(T t) {
        if (t.owner == this) {
            t.owner = null;
            if (parent != null && !parent.closed) parent.adopt(t);
        }
        return t;
    }

    /**
     * Takes {@code t} out of whatever scope would close it: the caller now closes it. For
     * results that must outlive every open scope (a module's parameters, a cache).
     */
    public static <T extends Tensor> T escape(T t) {
        if (t.owner != null) t.owner.forget(t);
        return t;
    }

    /** Stops this scope from closing {@code t}: it now belongs to someone else (e.g. a parameter's grad). */
    void forget(Tensor t) {
        if (t.owner == this) t.owner = null;
    }

    /** Closes every tensor made in this scope that was not kept. */
    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("A scope must be closed on the thread that opened it (" + owner.getName() + ")");
        }
        if (CURRENT.get() != this) {
            throw new IllegalStateException("Scopes must be closed innermost first");
        }
        closed = true;
        CURRENT.set(parent);
        for (Tensor t : owned) {
            if (t.owner == this) t.close();
        }
        owned.clear();
    }
}

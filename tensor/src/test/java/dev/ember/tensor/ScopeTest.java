package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Ember.scope(): what it closes, keep, nesting, threads. (No scope extension here: these tests manage their own.) */
class ScopeTest {

    @Test
    void closesWhatWasMadeInsideExceptWhatIsKept() {
        Tensor outside = Tensor.ones(3);
        Tensor a, b, kept, view;
        try (var s = Ember.scope()) {
            a = Tensor.zeros(3);
            b = a.add(outside);
            view = outside.t();
            kept = s.keep(b.mul(2.0));
            assertFalse(a.isClosed());
        }
        assertTrue(a.isClosed() && b.isClosed() && view.isClosed(), "made inside, closed by the scope");
        assertFalse(kept.isClosed(), "kept");
        assertFalse(outside.isClosed(), "made outside: not the scope's");
        assertEquals(2.0, kept.get(0));
        assertEquals(1.0, outside.get(0), "closing a view made inside does not close its base made outside");
        kept.close();
        outside.close();
    }

    @Test
    void keepMovesATensorToTheEnclosingScope() {
        Tensor inner, outer;
        try (var s1 = Ember.scope()) {
            try (var s2 = Ember.scope()) {
                inner = Tensor.zeros(2);
                outer = s2.keep(Tensor.ones(2));
            }
            assertTrue(inner.isClosed());
            assertFalse(outer.isClosed(), "kept by the inner scope: alive in the outer one");
        }
        assertTrue(outer.isClosed(), "the outer scope closed what the inner one handed it");
    }

    @Test
    void keepingTwiceHandsAllTheWayOut() {
        Tensor t;
        try (var s1 = Ember.scope()) {
            try (var s2 = Ember.scope()) {
                t = s2.keep(Tensor.ones(2));
            }
            assertSame(t, s1.keep(t));
        }
        assertFalse(t.isClosed(), "kept by every scope: the caller owns it");
        t.close();
    }

    @Test
    void theReturnIdiom() {
        Tensor r = compute();
        assertFalse(r.isClosed());
        assertEquals(7.0, r.get(1));
        r.close();
    }

    private static Tensor compute() {
        try (var s = Ember.scope()) {
            Tensor x = Tensor.full(3, 2);
            Tensor y = x.mul(2.0).add(1.0);
            return s.keep(y);
        }
    }

    @Test
    void keepIgnoresTensorsOfOtherScopes() {
        Tensor made;
        try (var s1 = Ember.scope()) {
            made = Tensor.ones(2);
            try (var s2 = Ember.scope()) {
                assertSame(made, s2.keep(made), "not s2's: keep is a no-op");
            }
            assertFalse(made.isClosed(), "s2 did not close s1's tensor");
        }
        assertTrue(made.isClosed(), "s1 still closed it");
    }

    @Test
    void anExceptionStillClosesTheScope() {
        AtomicReference<Tensor> made = new AtomicReference<>();
        assertThrows(IllegalArgumentException.class, () -> {
            try (var s = Ember.scope()) {
                made.set(Tensor.ones(2));
                made.get().add(Tensor.ones(3));
            }
        });
        assertTrue(made.get().isClosed());
        assertNull(Scope.current(), "the scope is no longer current");
    }

    @Test
    void scopesCloseInnermostFirstAndOnTheirOwnThread() throws Exception {
        var outer = Ember.scope();
        var inner = Ember.scope();
        var e = assertThrows(IllegalStateException.class, outer::close);
        assertEquals("Scopes must be closed innermost first", e.getMessage());
        inner.close();
        inner.close(); // twice is fine
        AtomicReference<Throwable> fromOther = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                outer.close();
            } catch (Throwable x) {
                fromOther.set(x);
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther.get() instanceof IllegalStateException, "closing on another thread fails: " + fromOther.get());
        assertTrue(fromOther.get().getMessage().contains("thread that opened it"), fromOther.get().getMessage());
        outer.close();
        assertNull(Scope.current());
    }

    @Test
    void scopesArePerThread() throws Exception {
        AtomicReference<Tensor> fromOther = new AtomicReference<>();
        try (var s = Ember.scope()) {
            Thread t = new Thread(() -> fromOther.set(Tensor.ones(2)));
            t.start();
            t.join();
        }
        assertFalse(fromOther.get().isClosed(), "a tensor made on another thread is not this thread's scope's");
        fromOther.get().close();
    }

    @Test
    void nestedScopesFreeTheirMemory() {
        MemoryTest.settle(); // let the Cleaner finish with earlier tests' leaks first
        long before = Ember.liveBytes();
        try (var s1 = Ember.scope()) {
            Tensor a = Tensor.zeros(1000);
            try (var s2 = Ember.scope()) {
                Tensor.zeros(2, 1000).add(a);
            }
            assertTrue(Ember.liveBytes() >= before + 4000, "s1's tensor is still live");
        }
        // (other tests' leaks reclaimed meanwhile can only lower this)
        assertTrue(Ember.liveBytes() <= before, "all freed: " + Ember.liveBytes() + " vs " + before);
    }
}

package dev.ember.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Library handles are created only when all are lent, bound per lease, and given back (no GPU needed). */
class HandlePoolTest {
    @Test
    void handlesAreReusedCreatedWhenAllAreLentAndBoundForEachLease() {
        AtomicLong created = new AtomicLong();
        List<Long> bound = new ArrayList<>();
        HandlePool pool = new HandlePool("test", () -> 100 + created.incrementAndGet());
        HandlePool.Lease a = pool.lease(bound::add);
        HandlePool.Lease b = pool.lease(bound::add);
        assertNotEquals(a.handle(), b.handle());
        long first = a.handle();
        a.close();
        a.close(); // closing twice gives it back once
        try (HandlePool.Lease c = pool.lease(bound::add); HandlePool.Lease d = pool.lease(bound::add)) {
            assertEquals(first, c.handle());
            assertEquals(3, created.get()); // d needed a new one: only a had been given back
            assertEquals(List.of(101L, 102L, 101L, 103L), bound);
        }
        b.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, a::handle);
        assertEquals("test handle lease already closed", e.getMessage());
    }

    @Test
    void aHandleWhoseBindingFailsGoesBackToThePool() {
        AtomicLong created = new AtomicLong();
        HandlePool pool = new HandlePool("test", created::incrementAndGet);
        assertThrows(IllegalStateException.class, () -> pool.lease(h -> { throw new IllegalStateException("bind failed"); }));
        try (HandlePool.Lease l = pool.lease(h -> { })) {
            assertEquals(1, l.handle());
            assertEquals(1, created.get());
        }
    }
}

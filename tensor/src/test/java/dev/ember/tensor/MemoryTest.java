package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * Off-heap accounting: constant memory over 1000 scoped iterations, views keeping storage alive,
 * idempotent close, use after close, the Cleaner as a counted safety net, peak tracking, and no
 * memory left behind by ops' internal temporaries.
 *
 * <p>Live bytes are process-wide and the Cleaner may free other tests' leaks at any moment, so
 * exact comparisons first let pending cleanups finish and are retried when the leak counter
 * moved during the measurement (that being the only other way live bytes change).
 */
@ExtendWith(TestTensors.Scoped.class)
class MemoryTest {

    /** Runs GC until the Cleaner has nothing left to reclaim from earlier tests. */
    static void settle() {
        long before;
        int stable = 0;
        for (int i = 0; i < 50 && stable < 2; i++) {
            before = Ember.leakedStorages();
            System.gc();
            sleep(20);
            stable = Ember.leakedStorages() == before ? stable + 1 : 0;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs {@code measurement} until no Cleaner activity overlapped it (at most 5 tries). */
    static void measureQuietly(Executable measurement) throws Throwable {
        for (int attempt = 0; ; attempt++) {
            settle();
            long leaked = Ember.leakedStorages();
            try {
                measurement.execute();
                return;
            } catch (AssertionError e) {
                if (Ember.leakedStorages() == leaked || attempt == 4) throw e;
            }
        }
    }

    @Test
    void thousandScopedIterationsHoldLiveBytesConstant() throws Throwable {
        Tensor x = Tensor.randn(16, 33);
        Tensor w = Tensor.randn(33);
        Tensor idx = Tensor.randint(0, 5, 16, 33);
        measureQuietly(() -> {
            long before = Ember.liveBytes();
            long[] live = new long[1000];
            long[] storages = new long[1000];
            for (int i = 0; i < live.length; i++) {
                try (var s = Ember.scope()) {
                    Tensor y = x.mul(w).add(0.5).relu().t().contiguous().sigmoid();
                    Tensor z = y.pow(2.0).exp().div(y.add(1L)).reshape(-1).narrow(0, 3, 100).clone();
                    Tensor m = z.gt(1.2).logicalOr(z.isnan());
                    Tensor q = Tensor.where(m, z, z.neg()).to(DType.FLOAT16).to(DType.FLOAT32);
                    Tensor k = idx.remainder(3L).to(DType.FLOAT32).add_(x.t().t()).clamp_(-1, 1);
                    q.toFloatArray();
                    k.t().toDoubleArray();
                    // an error inside the scope must not leak either
                    assertThrows(IllegalArgumentException.class, () -> z.add(Tensor.zeros(7)));
                }
                live[i] = Ember.liveBytes();
                storages[i] = MemoryStats.liveStorages();
            }
            for (int i = 1; i < live.length; i++) {
                assertEquals(live[0], live[i], "live bytes after iteration " + i + " differ from after the first");
                assertEquals(storages[0], storages[i], "live storages after iteration " + i);
            }
            assertEquals(before, live[0], "nothing made inside the scopes outlives them");
        });
    }

    @Test
    void aTrainingLoopKeepingItsStateHoldsConstantMemory() throws Throwable {
        Tensor data = Tensor.randn(64, 32);
        measureQuietly(() -> {
            Tensor state = Tensor.zeros(64, 32);
            long[] live = new long[1000];
            for (int step = 0; step < live.length; step++) {
                Tensor next;
                try (var s = Ember.scope()) {
                    Tensor grad = data.sub(state).mul(0.1);
                    next = s.keep(state.add(grad).clampMin(-3));
                }
                state.close();
                state = next;
                live[step] = Ember.liveBytes();
            }
            for (int i = 2; i < live.length; i++) assertEquals(live[1], live[i], "live bytes at step " + i);
            state.close();
        });
    }

    @Test
    void viewsKeepTheStorageAliveAfterTheBaseIsClosed() throws Throwable {
        measureQuietly(() -> {
            long before = Ember.liveBytes();
            Tensor base = Tensor.rand(64, 64);
            long withBase = Ember.liveBytes();
            assertTrue(withBase - before >= 64 * 64 * 4, "a 64x64 float32 tensor holds at least 16 KiB");
            double[] all = base.toDoubleArray();
            Tensor bt = base.t();
            Tensor v = bt.narrow(0, 1, 3);
            bt.close();
            Tensor v2 = v.unsqueeze(0);
            base.close();
            assertTrue(base.isClosed());
            assertEquals(withBase, Ember.liveBytes(), "views hold the storage");
            double[] got = v.toDoubleArray();
            for (int i = 0; i < 3; i++) for (int j = 0; j < 64; j++) assertEquals(all[j * 64 + 1 + i], got[i * 64 + j]);
            v.close();
            assertEquals(withBase, Ember.liveBytes(), "one view still holds it");
            assertArrayEquals(got, v2.toDoubleArray());
            v2.close();
            assertEquals(before, Ember.liveBytes(), "the last view's close frees it");
        });
    }

    @Test
    void closingTwiceIsHarmless() throws Throwable {
        measureQuietly(() -> {
            long before = Ember.liveBytes();
            Tensor base = Tensor.ones(100);
            Tensor v = base.view(10, 10);
            v.close();
            v.close();
            assertTrue(v.isClosed());
            assertEquals(100, base.toDoubleArray().length, "closing a view twice does not release the base's reference");
            base.close();
            base.close();
            assertEquals(before, Ember.liveBytes());
            try (var s = Ember.scope()) {
                Tensor t = Tensor.zeros(5);
                t.close(); // closed by hand and again by the scope
            }
            assertEquals(before, Ember.liveBytes());
        });
    }

    @Test
    void useAfterCloseThrowsNamingShapeAndDtype() {
        Tensor t = Tensor.ones(2, 3);
        Tensor other = Tensor.ones(2, 3);
        Tensor i = Tensor.ones(DType.INT64, 4);
        t.close();
        i.close();
        List<Executable> uses = List.of(
                () -> t.add(other), () -> other.add(t), () -> t.add(1.0), () -> t.exp(), () -> t.neg(), () -> t.view(6),
                () -> t.reshape(6), () -> t.t(), () -> t.permute(1, 0), () -> t.transpose(0, 1), () -> t.expand(2, 2, 3),
                () -> t.select(0, 0), () -> t.slice(0, 0, 1), () -> t.narrow(0, 0, 1), () -> t.unsqueeze(0), () -> t.squeeze(),
                () -> t.flatten(), () -> t.clone(), () -> t.contiguous(), () -> t.to(DType.FLOAT64), () -> t.copy_(other),
                () -> other.copy_(t), () -> t.fill_(1), () -> t.zero_(), () -> t.add_(other), () -> other.add_(t), () -> t.exp_(),
                () -> Tensor.where(Tensor.ones(DType.BOOL, 2, 3), t, other), () -> t.eq(other), () -> t.clamp(0, 1),
                () -> t.toDoubleArray(), () -> t.toFloatArray(), () -> t.toLongArray(), () -> t.toIntArray(),
                () -> t.toBooleanArray(), () -> t.get(0, 0), () -> t.set(1, 0, 0), () -> t.item(), () -> t.itemLong(),
                () -> t.data(), () -> Tensor.zerosLike(t).add_(t));
        for (int k = 0; k < uses.size(); k++) {
            var e = assertThrows(IllegalStateException.class, uses.get(k), "use #" + k);
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("float32") && e.getMessage().contains("close"),
                    "use #" + k + ": " + e.getMessage());
        }
        var e = assertThrows(IllegalStateException.class, () -> i.toLongArray());
        assertEquals("Tensor of shape [4] and dtype int64 was used after close()", e.getMessage());
        // metadata stays readable, and printing says what it was
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertEquals(DType.FLOAT32, t.dtype());
        assertEquals("tensor(<closed>, shape=[2, 3], dtype=float32)", t.toString());
        assertDoesNotThrow(t::close);
    }

    @Test
    void aLeakedTensorIsReclaimedByTheCleanerAndCounted() throws Throwable {
        settle();
        long leaked = Ember.leakedStorages();
        long live = Ember.liveBytes();
        // made on a thread with no scope, so nothing holds them once the thread ends
        runUnscoped(() -> {
            for (int k = 0; k < 4; k++) Tensor.ones(1000 + k).mul(2.0); // the ones() and the product leak
            return null;
        });
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Ember.leakedStorages() < leaked + 8 && System.nanoTime() < deadline) {
            System.gc();
            sleep(20);
        }
        assertTrue(Ember.leakedStorages() >= leaked + 8, "the Cleaner reclaimed and counted 8 leaked storages, counted "
                + (Ember.leakedStorages() - leaked));
        // live bytes come back (others' leaks may be reclaimed at the same time, never fewer than ours)
        settle();
        assertTrue(Ember.liveBytes() <= live, "live bytes back to where they were: " + Ember.liveBytes() + " vs " + live);
    }

    @Test
    void peakBytesTrackTheHighWaterMark() throws Throwable {
        measureQuietly(() -> {
            MemoryStats.resetPeak();
            long base = Ember.liveBytes();
            assertEquals(base, Ember.peakBytes(), "resetPeak sets the peak to live bytes");
            Tensor big = Tensor.zeros(1 << 18); // 1 MiB
            long with = Ember.liveBytes();
            assertTrue(with - base >= 1 << 20);
            big.close();
            assertEquals(base, Ember.liveBytes());
            assertEquals(with, Ember.peakBytes(), "the peak remembers the 1 MiB");
            Tensor small = Tensor.zeros(10);
            assertEquals(with, Ember.peakBytes(), "a smaller allocation leaves the peak");
            small.close();
            MemoryStats.resetPeak();
            assertEquals(Ember.liveBytes(), Ember.peakBytes());
        });
    }

    @Test
    void opsLeaveNoInternalTemporariesBehind() throws Throwable {
        // run without any scope: a temporary that an op forgets to close stays live
        record Op(Supplier<Tensor> input, UnaryOperator<Tensor> op) {}
        List<Op> ops = new ArrayList<>();
        Supplier<Tensor> m = () -> Tensor.randn(7, 5);
        Supplier<Tensor> sq = () -> Tensor.randn(4, 4);
        ops.add(new Op(m, x -> x.add(2.0)));
        ops.add(new Op(m, x -> x.sub(2L)));
        ops.add(new Op(m, x -> x.mul_(3.0)));
        ops.add(new Op(m, x -> x.reshape(35)));
        ops.add(new Op(sq, x -> { try (Tensor t = x.t()) { return t.reshape(16); } }));
        ops.add(new Op(sq, x -> { try (Tensor t = x.t()) { return t.flatten(); } }));
        ops.add(new Op(() -> Tensor.fromArray(new boolean[] {true, false}), x -> x.pow(2L)));
        ops.add(new Op(m, x -> x.fill_(2)));
        ops.add(new Op(sq, x -> { try (Tensor t = x.t()) { return x.add_(t); } }));
        ops.add(new Op(sq, x -> { try (Tensor t = x.t()) { return x.copy_(t); } }));
        ops.add(new Op(sq, x -> { try (Tensor t = x.t()) { return t.to(DType.FLOAT16); } }));
        ops.add(new Op(() -> Tensor.full(DType.INT32, 3, 5), x -> x.gt(1.5)));
        ops.add(new Op(m, Tensor::gelu));
        ops.add(new Op(m, x -> x.clamp(-1, 1)));
        ops.add(new Op(m, x -> { try (Tensor c = x.gt(0.0)) { return Tensor.where(c, x, x); } }));
        measureQuietly(() -> {
            for (int k = 0; k < ops.size(); k++) {
                Op op = ops.get(k);
                long[] diff = new long[1];
                runUnscoped(() -> {
                    long before = Ember.liveBytes();
                    Tensor x = op.input().get();
                    Tensor r = op.op().apply(x);
                    try (Tensor view = r.t()) {
                        view.toDoubleArray();
                    }
                    r.toFloatArray();
                    r.toBooleanArray();
                    r.close();
                    x.close();
                    diff[0] = Ember.liveBytes() - before;
                    return null;
                });
                assertEquals(0, diff[0], "op #" + k + " left " + diff[0] + " bytes behind");
            }
        });
    }

    /** Runs {@code body} on a fresh thread, where no scope is open. */
    static <T> T runUnscoped(Supplier<T> body) throws Throwable {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread th = new Thread(() -> {
            try {
                result.set(body.get());
            } catch (Throwable t) {
                error.set(t);
            }
        });
        th.start();
        th.join();
        if (error.get() != null) throw error.get();
        return result.get();
    }
}

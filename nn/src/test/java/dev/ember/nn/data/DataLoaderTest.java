package dev.ember.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    /** Worker threads seen by the datasets of a test; none may be alive once its loader is closed. */
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();

    @AfterEach
    void noWorkerOutlivesItsTest() throws InterruptedException {
        for (Thread t : workers) {
            t.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(t.isAlive(), t.getName() + " is still running");
        }
    }

    /** n examples whose input row i is [i, i + 0.5] and whose target is i, so a batch shows where its rows came from. */
    static TensorDataset numbered(int n) {
        float[] x = new float[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = i + 0.5f;
            y[i] = i;
        }
        return new TensorDataset(Tensor.fromArray(x, n, 2), Tensor.fromArray(y));
    }

    /** The dataset indices of an epoch, batch by batch; closes every batch. */
    static List<long[]> epoch(DataLoader loader) {
        List<long[]> batches = new ArrayList<>();
        for (Batch b : loader) {
            try (b) {
                batches.add(b.targets().toLongArray());
            }
        }
        return batches;
    }

    static long[] flat(List<long[]> batches) {
        return batches.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /** A gathering dataset that records its threads and counts the batches it made. */
    class Observed implements Dataset<Example>, BatchGather {
        final TensorDataset inner;
        final AtomicInteger gathered = new AtomicInteger();

        Observed(TensorDataset inner) {
            this.inner = inner;
        }

        @Override
        public int size() { return inner.size(); }

        @Override
        public Example get(int index) { return inner.get(index); }

        @Override
        public Batch gather(int[] indices) {
            workers.add(Thread.currentThread());
            Batch b = inner.gather(indices);
            gathered.incrementAndGet();
            return b;
        }
    }

    @Test
    void shuffledEpochVisitsEveryIndexOnce() {
        try (TensorDataset data = numbered(1000);
             DataLoader loader = DataLoader.builder(data).batchSize(64).shuffle(true).seed(7).build()) {
            for (int e = 0; e < 3; e++) {
                long[] seen = flat(epoch(loader));
                assertEquals(1000, seen.length);
                long[] sorted = seen.clone();
                Arrays.sort(sorted);
                for (int i = 0; i < 1000; i++) assertEquals(i, sorted[i], "epoch " + e + " visits index " + i + " once");
            }
            assertEquals(3, loader.epoch());
        }
    }

    @Test
    void sameSeedSameOrderAndEpochsDiffer() {
        try (TensorDataset data = numbered(500);
             DataLoader a = DataLoader.builder(data).batchSize(50).shuffle(true).seed(42).build();
             DataLoader b = DataLoader.builder(data).batchSize(50).shuffle(true).seed(42).build();
             DataLoader c = DataLoader.builder(data).batchSize(50).shuffle(true).seed(43).build()) {
            long[] a0 = flat(epoch(a)), a1 = flat(epoch(a));
            long[] b0 = flat(epoch(b)), b1 = flat(epoch(b));
            long[] c0 = flat(epoch(c));
            assertArrayEquals(a0, b0);
            assertArrayEquals(a1, b1);
            assertFalse(Arrays.equals(a0, a1), "a new permutation each epoch");
            assertFalse(Arrays.equals(a0, c0), "another seed, another order");
            long[] identity = new long[500];
            Arrays.setAll(identity, i -> i);
            assertFalse(Arrays.equals(a0, identity), "shuffled");
        }
    }

    @Test
    void setEpochReplaysAnEpoch() {
        try (TensorDataset data = numbered(300);
             DataLoader loader = DataLoader.builder(data).batchSize(32).shuffle(true).seed(3).build()) {
            epoch(loader);
            long[] second = flat(epoch(loader));
            loader.setEpoch(1);
            assertArrayEquals(second, flat(epoch(loader)));
        }
    }

    @Test
    void withoutSeedShufflingFollowsTheDefaultGenerator() {
        try (TensorDataset data = numbered(200)) {
            Ember.manualSeed(5);
            long[] first;
            try (DataLoader loader = DataLoader.builder(data).batchSize(20).shuffle(true).build()) {
                first = flat(epoch(loader));
            }
            Ember.manualSeed(5);
            try (DataLoader loader = DataLoader.builder(data).batchSize(20).shuffle(true).build()) {
                assertArrayEquals(first, flat(epoch(loader)));
            }
        }
    }

    @Test
    void withoutShuffleTheOrderIsTheDatasetOrder() {
        try (TensorDataset data = numbered(10); DataLoader loader = DataLoader.builder(data).batchSize(4).build()) {
            List<long[]> batches = epoch(loader);
            assertArrayEquals(new long[] {0, 1, 2, 3}, batches.get(0));
            assertArrayEquals(new long[] {4, 5, 6, 7}, batches.get(1));
            assertArrayEquals(new long[] {8, 9}, batches.get(2));
        }
    }

    @Test
    void dropLastDecidesTheShortBatch() {
        try (TensorDataset data = numbered(10)) {
            try (DataLoader keep = DataLoader.builder(data).batchSize(3).shuffle(true).seed(1).build()) {
                assertEquals(4, keep.numBatches());
                List<long[]> batches = epoch(keep);
                assertEquals(4, batches.size());
                assertEquals(1, batches.get(3).length);
                assertEquals(10, flat(batches).length);
            }
            try (DataLoader drop = DataLoader.builder(data).batchSize(3).shuffle(true).seed(1).dropLast(true).build()) {
                assertEquals(3, drop.numBatches());
                List<long[]> batches = epoch(drop);
                assertEquals(3, batches.size());
                batches.forEach(b -> assertEquals(3, b.length));
            }
            try (DataLoader exact = DataLoader.builder(data).batchSize(5).dropLast(true).build()) {
                assertEquals(2, exact.numBatches());
                assertEquals(2, epoch(exact).size());
            }
            try (DataLoader tooBig = DataLoader.builder(data).batchSize(11).dropLast(true).build()) {
                assertEquals(0, tooBig.numBatches());
                assertFalse(tooBig.iterator().hasNext());
            }
        }
    }

    @Test
    void batchContentsAreTheDatasetRows() {
        try (Tensor images = Tensor.rand(new Generator(11), 100, 1, 28, 28);
             Tensor labels = Tensor.randint(new Generator(12), 0, 10, 100);
             TensorDataset data = new TensorDataset(images.clone(), labels.clone());
             DataLoader loader = DataLoader.builder(data).batchSize(16).shuffle(true).seed(9).build()) {
            int rows = 0;
            for (Batch b : loader) {
                try (b) {
                    assertEquals(DType.FLOAT32, b.inputs().dtype());
                    assertEquals(DType.INT64, b.targets().dtype());
                    assertEquals(4, b.inputs().dim());
                    for (int j = 0; j < b.size(); j++) {
                        // find the row by its label-independent content: the image itself
                        try (Tensor got = b.inputs().select(0, j); Tensor label = b.targets().select(0, j)) {
                            int i = rowOf(images, got);
                            try (Example e = data.get(i)) {
                                assertTrue(e.input().equal(got), "batch row " + j + " is dataset row " + i);
                                assertEquals(e.target().itemLong(), label.itemLong());
                            }
                        }
                        rows++;
                    }
                }
            }
            assertEquals(100, rows);
        }
    }

    private static int rowOf(Tensor images, Tensor row) {
        for (int i = 0; i < images.size(0); i++) {
            try (Tensor r = images.select(0, i)) {
                if (r.equal(row)) return i;
            }
        }
        throw new AssertionError("a batch row that is in no dataset row");
    }

    @Test
    void datasetsWithoutGatherAreStacked() {
        try (TensorDataset data = numbered(7)) {
            Dataset<Example> plain = new Dataset<>() {
                public int size() { return data.size(); }
                public Example get(int index) { return data.get(index); }
            };
            try (DataLoader loader = DataLoader.builder(plain).batchSize(3).build()) {
                Iterator<Batch> it = loader.iterator();
                try (Batch b = it.next()) {
                    assertArrayEquals(new long[] {3, 2}, b.inputs().shape());
                    assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, b.inputs().toFloatArray());
                    assertArrayEquals(new long[] {0, 1, 2}, b.targets().toLongArray());
                }
            }
        }
    }

    @Test
    void workersAndInlineLoadingGiveTheSameBatches() {
        try (TensorDataset data = numbered(333)) {
            List<long[]> expected;
            try (DataLoader inline = DataLoader.builder(data).batchSize(10).shuffle(true).seed(4).numWorkers(0).build()) {
                expected = epoch(inline);
            }
            for (int w : new int[] {1, 3}) {
                Observed observed = new Observed(data);
                try (DataLoader loader = DataLoader.builder(observed).batchSize(10).shuffle(true).seed(4)
                        .numWorkers(w).prefetch(4).build()) {
                    List<long[]> got = epoch(loader);
                    assertEquals(expected.size(), got.size());
                    for (int k = 0; k < got.size(); k++) assertArrayEquals(expected.get(k), got.get(k), "batch " + k);
                }
                assertTrue(workers.stream().noneMatch(t -> t == Thread.currentThread()), "made on worker threads");
            }
        }
    }

    @Test
    void prefetchRunsAheadOfTheConsumer() throws InterruptedException {
        int prefetch = 3;
        CountDownLatch made = new CountDownLatch(prefetch);
        try (TensorDataset data = numbered(100)) {
            Observed observed = new Observed(data) {
                @Override
                public Batch gather(int[] indices) {
                    Batch b = super.gather(indices);
                    made.countDown();
                    return b;
                }
            };
            try (DataLoader loader = DataLoader.builder(observed).batchSize(10).numWorkers(1).prefetch(prefetch).build()) {
                Iterator<Batch> it = loader.iterator();
                // no next() yet: the worker alone fills the window
                assertTrue(made.await(30, TimeUnit.SECONDS), "the worker made " + prefetch + " batches before any was asked for");
                Thread worker = workers.iterator().next();
                awaitParked(worker);
                assertEquals(prefetch, observed.gathered.get(), "and then waits: at most prefetch batches ahead");

                try (Batch b = it.next()) {
                    assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, b.targets().toLongArray());
                }
                // taking one frees one slot, which the worker fills
                awaitCount(observed.gathered, prefetch + 1);
                awaitParked(worker);
                assertEquals(prefetch + 1, observed.gathered.get());
            }
        }
    }

    /** Waits until the worker blocks (on the window), however long building took. */
    private static void awaitParked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TERMINATED) {
            if (System.nanoTime() > deadline) throw new AssertionError(t.getName() + " never waited: " + t.getState());
            Thread.sleep(1);
        }
    }

    private static void awaitCount(AtomicInteger n, int target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (n.get() < target) {
            if (System.nanoTime() > deadline) throw new AssertionError("count stayed at " + n.get() + ", expected " + target);
            Thread.sleep(1);
        }
    }

    @Test
    void workerExceptionSurfacesOnTheConsumerWithItsCause() {
        try (TensorDataset data = numbered(50)) {
            IllegalStateException boom = new IllegalStateException("bad record 25");
            Observed failing = new Observed(data) {
                @Override
                public Batch gather(int[] indices) {
                    for (int i : indices) {
                        if (i == 25) throw boom;
                    }
                    return super.gather(indices);
                }
            };
            try (DataLoader loader = DataLoader.builder(failing).batchSize(10).numWorkers(2).prefetch(4).build()) {
                Iterator<Batch> it = loader.iterator();
                for (int k = 0; k < 2; k++) it.next().close(); // batches before the bad one still arrive
                DataLoaderException e = assertThrows(DataLoaderException.class, it::next);
                assertSame(boom, e.getCause());
                assertTrue(e.getMessage().contains("batch 2 of 5") && e.getMessage().contains("bad record 25"), e.getMessage());
                assertTrue(Arrays.stream(e.getStackTrace()).anyMatch(f -> f.getMethodName().contains("workerException")),
                        "thrown on the consumer's thread");
            }
        }
    }

    @Test
    void inlineExceptionIsWrappedTheSameWay() {
        Dataset<Example> broken = new Dataset<>() {
            public int size() { return 4; }
            public Example get(int index) { throw new IndexOutOfBoundsException("no row " + index); }
        };
        try (DataLoader loader = DataLoader.builder(broken).batchSize(2).numWorkers(0).build()) {
            DataLoaderException e = assertThrows(DataLoaderException.class, () -> loader.iterator().next());
            assertTrue(e.getCause() instanceof IndexOutOfBoundsException);
            assertTrue(e.getMessage().contains("batch 0 of 2"), e.getMessage());
        }
    }

    @Test
    void closingMidEpochStopsTheWorkersAndFreesReadyBatches() throws InterruptedException {
        try (TensorDataset data = numbered(1000)) {
            Observed observed = new Observed(data);
            long before = Ember.liveBytes();
            DataLoader loader = DataLoader.builder(observed).batchSize(10).numWorkers(2).prefetch(4).build();
            for (Batch b : loader) { // a training loop that breaks early
                b.close();
                if (observed.gathered.get() >= 4) break;
            }
            loader.close();
            for (Thread t : workers) assertFalse(t.isAlive(), t.getName() + " still runs after close()");
            assertEquals(before, Ember.liveBytes(), "the batches made ahead were closed");
            assertThrows(IllegalStateException.class, loader::iterator);
        }
    }

    @Test
    void aNewEpochEndsTheAbandonedOne() {
        try (TensorDataset data = numbered(1000)) {
            Observed observed = new Observed(data);
            try (DataLoader loader = DataLoader.builder(observed).batchSize(10).numWorkers(1).build()) {
                Iterator<Batch> first = loader.iterator();
                first.next().close();
                Thread firstWorker = workers.iterator().next();
                Iterator<Batch> second = loader.iterator(); // the first epoch is abandoned
                assertFalse(firstWorker.isAlive(), "starting an epoch stops the previous epoch's worker");
                IllegalStateException e = assertThrows(IllegalStateException.class, first::next);
                assertTrue(e.getMessage().contains("epoch was ended"), e.getMessage());
                try (Batch b = second.next()) {
                    assertEquals(0, b.targets().toLongArray()[0]);
                }
            }
        }
    }

    @Test
    void anIteratorThatBecomesGarbageStopsItsWorker() throws InterruptedException {
        try (TensorDataset data = numbered(1000)) {
            Observed observed = new Observed(data);
            try (DataLoader loader = DataLoader.builder(observed).batchSize(10).numWorkers(1).build()) {
                startAndDrop(loader);
                Thread worker = workers.iterator().next();
                // the worker waits on a full window; only the Cleaner can stop it now
                for (int i = 0; i < 500 && worker.isAlive(); i++) {
                    System.gc();
                    worker.join(20);
                }
                assertFalse(worker.isAlive(), "the worker of an unreachable iterator is stopped");
            }
        }
    }

    /** Takes one batch of a new epoch and forgets the iterator. */
    private static void startAndDrop(DataLoader loader) {
        Iterator<Batch> it = loader.iterator();
        it.next().close();
    }

    @Test
    void workerBatchesBelongToNoScope() {
        try (TensorDataset data = numbered(20); DataLoader loader = DataLoader.builder(data).batchSize(5).build()) {
            Batch b;
            Scope scope = Ember.scope();
            try {
                b = loader.iterator().next();
            } finally {
                scope.close();
            }
            assertFalse(b.inputs().isClosed(), "the consumer's scope does not close a worker's batch");
            b.close();
            assertTrue(b.inputs().isClosed() && b.targets().isClosed());
        }
    }

    @Test
    void transformRunsOnEachBatchsInputs() {
        try (TensorDataset data = numbered(12)) {
            long before = Ember.liveBytes();
            Transform doubleIt = x -> x.mul(2.0).add(0.0); // a temporary in between, closed by the loader's scope
            try (DataLoader loader = DataLoader.builder(data).batchSize(4).transform(doubleIt).build()) {
                for (Batch b : loader) {
                    try (b) {
                        float[] x = b.inputs().toFloatArray();
                        long[] y = b.targets().toLongArray();
                        for (int j = 0; j < y.length; j++) assertEquals(2 * y[j], x[2 * j], 0f);
                    }
                }
            }
            assertEquals(before, Ember.liveBytes(), "no temporary of the transform outlived it");
        }
    }

    @Test
    void normalizeAsABatchTransform() {
        try (TensorDataset data = numbered(4);
             DataLoader loader = DataLoader.builder(data).batchSize(4).transform(new Normalize(1.0, 2.0)).build();
             Batch b = loader.iterator().next()) {
            assertArrayEquals(new float[] {-0.5f, -0.25f, 0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f}, b.inputs().toFloatArray());
        }
    }

    @Test
    void loaderTimesTheConsumersWaits() {
        try (TensorDataset data = numbered(100); DataLoader loader = DataLoader.builder(data).batchSize(10).build()) {
            epoch(loader);
            assertTrue(loader.waitNanos() > 0);
        }
    }

    @Test
    void badSettingsAreRejected() {
        try (TensorDataset data = numbered(3)) {
            assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).batchSize(0));
            assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).numWorkers(-1));
            assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).prefetch(0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DataLoader.builder(data).numWorkers(4).prefetch(2).build());
            assertTrue(e.getMessage().contains("prefetch (2) must be at least numWorkers (4)"), e.getMessage());
        }
    }

    @Test
    void fashionMnistBatchesHaveTheTrainingLoopsShapes() {
        try (TensorDataset train = FashionMnistTest.TINY.load(Split.TRAIN, Normalize.FASHION_MNIST);
             DataLoader loader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(0).build()) {
            assertEquals(4, loader.numBatches());
            for (Batch b : loader) {
                try (b) {
                    assertArrayEquals(new long[] {64, 1, 28, 28}, b.inputs().shape());
                    assertArrayEquals(new long[] {64}, b.targets().shape());
                    assertEquals(DType.FLOAT32, b.inputs().dtype());
                    assertEquals(DType.INT64, b.targets().dtype());
                }
            }
        }
    }

    @Test
    void tensorDatasetChecksItsArguments() {
        try (Tensor x = Tensor.zeros(3, 2); Tensor y = Tensor.zeros(DType.INT64, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TensorDataset(x, y));
            assertTrue(e.getMessage().contains("Size mismatch"), e.getMessage());
        }
        try (TensorDataset data = numbered(3)) {
            assertThrows(IndexOutOfBoundsException.class, () -> data.get(3));
            assertThrows(IndexOutOfBoundsException.class, () -> data.gather(new int[] {0, -1}));
            try (TensorDataset head = data.head(2)) {
                assertArrayEquals(new long[] {0, 1}, head.targets().toLongArray());
            }
            assertNotEquals(0, data.toString().length());
        }
    }
}

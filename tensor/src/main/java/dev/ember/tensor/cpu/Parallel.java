package dev.ember.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The CPU backend's thread pool. Work below {@link #GRAIN} elements runs on the calling thread:
 * forking costs microseconds, which would dominate small ops.
 */
public final class Parallel {
    /** Elements below which an elementwise op or reduction stays on one thread. */
    public static final long GRAIN = 1L << 15;

    private static final ForkJoinPool POOL = new ForkJoinPool(
            Runtime.getRuntime().availableProcessors(),
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("ember-cpu-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private static volatile int numThreads = Runtime.getRuntime().availableProcessors();

    private Parallel() {}

    /** A body over the half-open range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(long start, long end);
    }

    /** The number of threads CPU ops may use, as torch.get_num_threads(). */
    public static int numThreads() { return numThreads; }

    /** Sets the number of threads CPU ops may use (1 .. available processors), as torch.set_num_threads. */
    public static void setNumThreads(int n) {
        int max = Runtime.getRuntime().availableProcessors();
        if (n < 1 || n > max) {
            throw new IllegalArgumentException("numThreads must be in [1, " + max + "], got " + n);
        }
        numThreads = n;
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #numThreads()} contiguous chunks,
     * each of at least {@code grain} elements; runs inline when one chunk suffices.
     */
    public static void forRange(long n, long grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(numThreads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || inWorker()) {
            body.run(0, n);
            return;
        }
        POOL.invoke(new Chunks(n, chunks, 0, chunks, body));
    }

    /** Runs {@code tasks} independent tasks indexed 0..tasks-1, using up to numThreads threads. */
    public static void forTasks(int tasks, java.util.function.IntConsumer task) {
        forRange(tasks, 1, (s, e) -> {
            for (long i = s; i < e; i++) task.accept((int) i);
        });
    }

    private static boolean inWorker() {
        return Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /** Splits chunk indices [lo, hi) in halves until one chunk is left, then runs it. */
    private static final class Chunks extends RecursiveAction {
        private final long n;
        private final int chunks, lo, hi;
        private final RangeBody body;

        Chunks(long n, int chunks, int lo, int hi, RangeBody body) {
            this.n = n; this.chunks = chunks; this.lo = lo; this.hi = hi; this.body = body;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run(n * lo / chunks, n * (lo + 1) / chunks);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Chunks(n, chunks, lo, mid, body), new Chunks(n, chunks, mid, hi, body));
        }
    }
}

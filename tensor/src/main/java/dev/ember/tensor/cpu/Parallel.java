package dev.ember.tensor.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's threads. A parallel op splits its range into chunks: the calling thread runs
 * the first chunk itself and hands one chunk each to resident worker threads, then waits.
 *
 * <p>Why not a ForkJoinPool: waking a parked pool thread costs 150-400 µs on a virtual machine,
 * and a training step runs dozens of parallel ops of a few hundred microseconds each; the pool
 * also sometimes ran both halves of a two-way split on one worker. Here workers spin briefly
 * after each chunk before they park, so back-to-back ops find them awake, and every chunk has
 * its own thread. Work below {@link #GRAIN} elements, nested parallel calls (from inside a
 * chunk) and calls made while another thread's op holds the workers run on the calling thread.
 */
public final class Parallel {
    /** Elements below which an elementwise op or reduction stays on one thread. */
    public static final long GRAIN = 1L << 15;

    /** How long a worker keeps looking for its next chunk before parking (system property ember.cpu.spinMicros). */
    private static final long SPIN_NANOS = Long.getLong("ember.cpu.spinMicros", 50) * 1000;

    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static final Worker[] WORKERS = new Worker[CORES - 1];
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    private static final ThreadLocal<boolean[]> INSIDE = ThreadLocal.withInitial(() -> new boolean[1]);

    private static volatile int numThreads = CORES;

    static {
        // the CPU backend's first op: see these classes for why
        VectorJitDirective.installInBackground();
        EarlyClasses.load();
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker("ember-cpu-" + (i + 1));
            WORKERS[i].start();
        }
    }

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
        if (n < 1 || n > CORES) {
            throw new IllegalArgumentException("numThreads must be in [1, " + CORES + "], got " + n);
        }
        numThreads = n;
    }

    /** Whether the current thread is running a chunk of a parallel op (so it must not split again). */
    public static boolean inParallelRegion() {
        return Thread.currentThread() instanceof Worker || INSIDE.get()[0];
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #numThreads()} contiguous chunks,
     * each of at least {@code grain} elements; runs inline when one chunk suffices.
     */
    public static void forRange(long n, long grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(numThreads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || inParallelRegion() || !BUSY.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        try {
            Job job = new Job(body, n, chunks, Thread.currentThread());
            for (int c = 1; c < chunks; c++) WORKERS[c - 1].submit(job, c);
            boolean[] inside = INSIDE.get();
            inside[0] = true;
            try {
                job.run(0);
            } finally {
                inside[0] = false;
            }
            job.awaitOthers();
        } finally {
            BUSY.set(false);
        }
    }

    /** Runs {@code tasks} independent tasks indexed 0..tasks-1, using up to numThreads threads. */
    public static void forTasks(int tasks, IntConsumer task) {
        forRange(tasks, 1, (s, e) -> {
            for (long i = s; i < e; i++) task.accept((int) i);
        });
    }

    /** One parallel call: its chunks, how many are still running, and the first failure. */
    private static final class Job {
        private final RangeBody body;
        private final long n;
        private final int chunks;
        private final Thread caller;
        private final AtomicInteger pending;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(RangeBody body, long n, int chunks, Thread caller) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.caller = caller;
            this.pending = new AtomicInteger(chunks - 1);
        }

        void run(int chunk) {
            try {
                body.run(n * chunk / chunks, n * (chunk + 1) / chunks);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }

        /** Called by a worker when its chunk is done. */
        void finished() {
            if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
        }

        /** Waits for the workers' chunks (spinning first: they usually finish about when the caller does). */
        void awaitOthers() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (pending.get() > 0) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    /** A resident daemon thread running one chunk at a time. */
    private static final class Worker extends Thread {
        private record Task(Job job, int chunk) {}

        private volatile Task task;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void submit(Job job, int chunk) {
            task = new Task(job, chunk);
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            while (true) {
                Task t = awaitTask();
                task = null;
                t.job.run(t.chunk);
                t.job.finished();
            }
        }

        private Task awaitTask() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            Task t;
            while ((t = task) == null) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            return t;
        }
    }
}

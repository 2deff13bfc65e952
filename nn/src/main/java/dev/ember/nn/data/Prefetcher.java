package dev.ember.nn.data;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;

/**
 * One epoch's batches, made ahead of the consumer by worker threads and handed over in order.
 *
 * <p>Batch k is built by whichever worker claims it, into slot {@code k % window} of a ring. A
 * worker may only claim batch k while {@code k < taken + window}, so at most {@code window}
 * batches exist at a time (ready or being built), the slots of those batches are distinct, and
 * the order of delivery does not depend on which worker was quicker.
 *
 * <p>The threads are daemons and stop as soon as the epoch ends, fails or is shut down. An
 * iterator dropped mid-epoch (a {@code break}) is cleaned up three ways: the loader's next
 * epoch or {@link DataLoader#close()} shuts it down, and failing that a {@link Cleaner} does once
 * the iterator is garbage; ready batches are closed either way.
 */
final class Prefetcher implements Iterator<Batch> {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Pipeline pipeline;
    private int taken;

    Prefetcher(Pipeline pipeline) {
        this.pipeline = pipeline;
        // the action holds the pipeline, never this iterator, so the iterator can become garbage
        CLEANER.register(this, pipeline::shutdown);
    }

    @Override
    public boolean hasNext() {
        return taken < pipeline.batches;
    }

    @Override
    public Batch next() {
        if (!hasNext()) throw new NoSuchElementException("the epoch has ended: all " + pipeline.batches + " batches were taken");
        Batch b = pipeline.take(taken);
        taken++;
        return b;
    }

    /** The worker threads and the ring they fill; shared by the iterator, the loader and the workers. */
    static final class Pipeline implements AutoCloseable {
        /** How long {@link #close()} waits for a worker that is still inside the dataset's code. */
        private static final long JOIN_MILLIS = 10_000;

        private final int batches;
        private final int window;
        private final IntFunction<Batch> build;
        private final IntFunction<String> describe;
        private final AtomicLong waitNanos;
        private final Thread[] threads;

        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private final Object[] ring; // a Batch, a Failure, or null while not ready
        private int claimed;          // the next batch a worker will build
        private int taken;            // batches handed to the consumer so far
        private boolean failed;       // a worker failed: build nothing more
        private boolean shut;

        private record Failure(Throwable cause, String thread) {}

        /**
         * @param build      makes batch k; runs on the worker threads
         * @param describe   names batch k in an error message (which examples it holds)
         * @param waitNanos  where the consumer's time spent waiting for batches is added up
         */
        private Pipeline(int batches, int workers, int window, IntFunction<Batch> build, IntFunction<String> describe,
                         String threadName, AtomicLong waitNanos) {
            this.batches = batches;
            this.window = window;
            this.build = build;
            this.describe = describe;
            this.waitNanos = waitNanos;
            this.ring = new Object[window];
            this.threads = new Thread[Math.min(workers, batches)];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = new Thread(this::work, threadName + "-worker-" + i);
                threads[i].setDaemon(true);
            }
        }

        /** Starts the workers of an epoch of {@code batches} batches. */
        static Pipeline start(int batches, int workers, int window, IntFunction<Batch> build, IntFunction<String> describe,
                              String threadName, AtomicLong waitNanos) {
            Pipeline p = new Pipeline(batches, workers, window, build, describe, threadName, waitNanos);
            for (Thread t : p.threads) t.start();
            return p;
        }

        private void work() {
            while (true) {
                int k;
                lock.lock();
                try {
                    while (!shut && !failed && claimed < batches && claimed >= taken + window) changed.await();
                    if (shut || failed || claimed >= batches) return;
                    k = claimed++;
                } catch (InterruptedException e) {
                    return; // only a foreign interrupt gets here; the pipeline itself never interrupts
                } finally {
                    lock.unlock();
                }
                Object result;
                try {
                    result = build.apply(k);
                } catch (Throwable t) { // an Error too: the consumer must hear of it, not wait forever
                    result = new Failure(t, Thread.currentThread().getName());
                }
                lock.lock();
                try {
                    if (shut) {
                        if (result instanceof Batch b) b.close();
                        return;
                    }
                    if (result instanceof Failure) failed = true;
                    ring[k % window] = result;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }

        /** Batch k, waiting for a worker to finish it if need be. */
        Batch take(int k) {
            long start = System.nanoTime();
            Object result;
            lock.lock();
            try {
                int slot = k % window;
                while (ring[slot] == null && !shut) changed.awaitUninterruptibly();
                if (shut) {
                    throw new IllegalStateException("this DataLoader epoch was ended (the loader was closed, or a new"
                            + " epoch was started) before batch " + k + " of " + batches + " was taken");
                }
                result = ring[slot];
                ring[slot] = null;
                taken++;
                changed.signalAll();
            } finally {
                lock.unlock();
                waitNanos.addAndGet(System.nanoTime() - start);
            }
            if (result instanceof Failure f) {
                shutdown();
                throw new DataLoaderException("DataLoader worker " + f.thread() + " failed to load " + describe.apply(k)
                        + ": " + f.cause(), f.cause());
            }
            return (Batch) result;
        }

        /** Stops the workers (each finishes the batch it is building and discards it) and closes ready batches. */
        void shutdown() {
            List<Batch> ready = new ArrayList<>();
            lock.lock();
            try {
                if (shut) return;
                shut = true;
                for (int i = 0; i < ring.length; i++) {
                    if (ring[i] instanceof Batch b) ready.add(b);
                    ring[i] = null;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            ready.forEach(Batch::close);
        }

        /** Shuts down and waits for the worker threads to end. */
        @Override
        public void close() {
            shutdown();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MILLIS);
            boolean interrupted = false;
            for (Thread t : threads) {
                while (t.isAlive()) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) break; // a dataset stuck in its own code: leave the daemon thread behind
                    try {
                        t.join(left);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}

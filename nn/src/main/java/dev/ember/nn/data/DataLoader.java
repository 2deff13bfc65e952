package dev.ember.nn.data;

import dev.ember.ffi.Cuda;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batches of a dataset, one epoch per iteration, as torch.utils.data.DataLoader:
 *
 * <pre>{@code
 * try (DataLoader loader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(0).build()) {
 *     for (int epoch = 0; epoch < 3; epoch++) {
 *         for (Batch b : loader) {
 *             try (b) { ... b.inputs() [64, 1, 28, 28] float32, b.targets() [64] int64 ... }
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Each {@link #iterator()} starts a new epoch: with shuffling, a new permutation that depends
 * only on the seed and the epoch's number (so the same seed gives the same sequence of epochs).
 * Batches are made ahead of time by {@code numWorkers} background threads, at most
 * {@code prefetch} at a time, so the training step rarely waits for data
 * ({@link #waitNanos()} says how long it did); with {@code numWorkers(0)} they are made on the
 * caller's thread when asked for.
 *
 * <p>Batches come from {@link BatchGather#gather} when the dataset offers it (a
 * {@link TensorDataset} does: one row gather per batch), else by stacking its examples. Batches
 * made by workers belong to no scope; close each one when its step is done (with
 * {@code numWorkers(0)} they are made by next() on the caller's thread, so a scope open there
 * owns them too). Starting an epoch ends the previous one, and {@link #close()} ends the current
 * one and waits for its threads; neither closes the dataset.
 */
public final class DataLoader implements Iterable<Batch>, AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final Dataset<Example> dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final int numWorkers;
    private final int prefetch;
    private final boolean pinMemory;
    private final Transform transform;
    private final String name;
    private final AtomicLong waitNanos = new AtomicLong();

    private long nextEpoch;
    private Prefetcher.Pipeline running;
    private boolean closed;

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        // as PyTorch: without an explicit seed, shuffling draws from the default generator (Ember.manualSeed)
        this.seed = b.seed != null ? b.seed : Generator.defaultGenerator().nextLong(Long.MIN_VALUE, Long.MAX_VALUE);
        this.dropLast = b.dropLast;
        this.numWorkers = b.numWorkers;
        this.prefetch = b.prefetch;
        this.transform = b.transform;
        // as PyTorch, which warns and goes on unpinned: without CUDA there is nothing to pin for
        this.pinMemory = b.pinMemory && Cuda.isAvailable();
        this.name = "ember-dataloader-" + IDS.incrementAndGet();
    }

    public static Builder builder(Dataset<Example> dataset) {
        return new Builder(dataset);
    }

    /** Starts the next epoch (ending the previous one, if still running) and iterates its batches. */
    @Override
    public synchronized Iterator<Batch> iterator() {
        if (closed) throw new IllegalStateException("this DataLoader was closed");
        endEpoch();
        BatchPlan plan = BatchPlan.of(dataset.size(), batchSize, dropLast, shuffle, seed, nextEpoch++);
        if (numWorkers == 0) return new InlineEpoch(plan);
        running = Prefetcher.Pipeline.start(plan.batches(), numWorkers, prefetch, k -> assemble(plan.indices(k)),
                k -> describe(plan, k), name, waitNanos);
        return new Prefetcher(running);
    }

    /** Batches per epoch: ceil(size / batchSize), or floor with dropLast. */
    public int numBatches() {
        return BatchPlan.count(dataset.size(), batchSize, dropLast);
    }

    /** The number of epochs started so far (or the one {@link #setEpoch} set next). */
    public synchronized long epoch() {
        return nextEpoch;
    }

    /** Makes the next {@link #iterator()} epoch {@code epoch}, e.g. to resume a run from a checkpoint. */
    public synchronized void setEpoch(long epoch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
        this.nextEpoch = epoch;
    }

    /** Nanoseconds callers of next() have spent waiting for batches, over all epochs. */
    public long waitNanos() {
        return waitNanos.get();
    }

    public Dataset<Example> dataset() { return dataset; }

    public int batchSize() { return batchSize; }

    /** Ends the running epoch, closing batches not yet taken and waiting for the worker threads to stop. */
    @Override
    public synchronized void close() {
        closed = true;
        endEpoch();
    }

    private void endEpoch() {
        if (running != null) {
            running.close();
            running = null;
        }
    }

    /**
     * The batch of the examples at {@code indices}, with the input transform applied. Runs on a
     * worker thread (outside any scope), or on the caller's for {@code numWorkers(0)}.
     */
    private Batch assemble(int[] indices) {
        Batch made = transformed(dataset instanceof BatchGather g ? g.gather(indices) : stack(indices));
        if (!pinMemory) return made;
        try (made) {
            Tensor inputs = made.inputs().pinMemory();
            try {
                return new Batch(inputs, made.targets().pinMemory());
            } catch (RuntimeException | Error e) {
                inputs.close();
                throw e;
            }
        }
    }

    /** The batch with the input transform applied (the raw batch without one). */
    private Batch transformed(Batch raw) {
        if (transform == null) return raw;
        Tensor inputs;
        try (Scope s = Ember.scope()) {
            // the scope closes the transform's temporaries; keep() hands the result on
            inputs = s.keep(transform.apply(raw.inputs()));
        } catch (RuntimeException | Error e) {
            raw.close();
            throw e;
        }
        if (inputs != raw.inputs()) raw.inputs().close();
        return new Batch(inputs, raw.targets());
    }

    /** A batch from examples read one by one, for datasets that cannot gather. */
    private Batch stack(int[] indices) {
        List<Example> examples = new ArrayList<>(indices.length);
        try {
            for (int i : indices) examples.add(dataset.get(i));
            List<Tensor> inputs = new ArrayList<>(indices.length), targets = new ArrayList<>(indices.length);
            for (Example e : examples) {
                inputs.add(e.input());
                targets.add(e.target());
            }
            Tensor x = Tensor.stack(inputs);
            try {
                return new Batch(x, Tensor.stack(targets));
            } catch (RuntimeException e) {
                x.close();
                throw e;
            }
        } finally {
            examples.forEach(Example::close);
        }
    }

    /** "batch 3 of 157 (dataset indices [12, 40, ...])", for error messages. */
    private static String describe(BatchPlan plan, int k) {
        int[] idx = plan.indices(k);
        String shown = Arrays.toString(Arrays.copyOf(idx, Math.min(idx.length, 8)));
        if (idx.length > 8) shown = shown.substring(0, shown.length() - 1) + ", ...]";
        return "batch " + k + " of " + plan.batches() + " (dataset indices " + shown + ")";
    }

    @Override
    public String toString() {
        return "DataLoader(" + dataset.size() + " examples, batchSize " + batchSize + ", shuffle " + shuffle
                + ", dropLast " + dropLast + ", numWorkers " + numWorkers + ", prefetch " + prefetch + ")";
    }

    /** numWorkers(0): each batch is made by next() on the caller's thread. */
    private final class InlineEpoch implements Iterator<Batch> {
        private final BatchPlan plan;
        private int taken;

        InlineEpoch(BatchPlan plan) {
            this.plan = plan;
        }

        @Override
        public boolean hasNext() {
            return taken < plan.batches();
        }

        @Override
        public Batch next() {
            if (!hasNext()) throw new NoSuchElementException("the epoch has ended: all " + plan.batches() + " batches were taken");
            long start = System.nanoTime();
            int k = taken++;
            try {
                return assemble(plan.indices(k));
            } catch (RuntimeException e) {
                throw new DataLoaderException("DataLoader failed to load " + describe(plan, k) + ": " + e, e);
            } finally {
                waitNanos.addAndGet(System.nanoTime() - start);
            }
        }
    }

    /** Settings of a {@link DataLoader}; defaults as PyTorch's except for the one background worker. */
    public static final class Builder {
        private final Dataset<Example> dataset;
        private int batchSize = 1;
        private boolean shuffle;
        private Long seed;
        private boolean dropLast;
        private int numWorkers = 1;
        private int prefetch = 4;
        private Transform transform;
        private boolean pinMemory;

        private Builder(Dataset<Example> dataset) {
            if (dataset == null) throw new NullPointerException("dataset");
            this.dataset = dataset;
        }

        /** Examples per batch (default 1). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("batch_size should be a positive integer value, but got batch_size=" + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** Whether each epoch visits the examples in a new random order (default false). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** The seed of the shuffle (default: drawn from Ember's default generator when the loader is built). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Whether to drop the last batch when it is smaller than batchSize (default false). */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Background threads that make batches (default 1); 0 makes them on the caller's thread. */
        public Builder numWorkers(int numWorkers) {
            if (numWorkers < 0) {
                throw new IllegalArgumentException("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.");
            }
            this.numWorkers = numWorkers;
            return this;
        }

        /** How many batches may exist ahead of the consumer, ready or being made (default 4); at least numWorkers. */
        public Builder prefetch(int prefetch) {
            if (prefetch < 1) throw new IllegalArgumentException("prefetch must be at least 1, got " + prefetch);
            this.prefetch = prefetch;
            return this;
        }

        /** A transform of each batch's inputs, run on the workers (e.g. an augmentation); none by default. */
        public Builder transform(Transform transform) {
            this.transform = transform;
            return this;
        }

        /**
         * Whether the workers copy each batch into page-locked memory (default false), as PyTorch's
         * pin_memory: then {@code batch.inputs().to(Device.cuda())} is queued without the driver
         * staging the bytes, and overlaps with the GPU's work. Ignored where CUDA is not available.
         */
        public Builder pinMemory(boolean pinMemory) {
            this.pinMemory = pinMemory;
            return this;
        }

        public DataLoader build() {
            if (numWorkers > 0 && prefetch < numWorkers) {
                throw new IllegalArgumentException("prefetch (" + prefetch + ") must be at least numWorkers (" + numWorkers
                        + "), or some workers would have nothing to do");
            }
            return new DataLoader(this);
        }
    }
}

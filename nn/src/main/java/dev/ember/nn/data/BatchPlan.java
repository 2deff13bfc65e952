package dev.ember.nn.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The order of one epoch, cut into batches: every index of the dataset once, shuffled or not,
 * then consecutive runs of {@code batchSize} (the last one shorter, or dropped).
 */
record BatchPlan(int[] order, int batchSize, int batches) {

    /**
     * The plan of epoch {@code epoch}. A shuffled order depends only on (seed, epoch), so the
     * same seed replays the same epochs, each epoch differs from the others, and resuming at
     * epoch e needs no replay of the epochs before it.
     */
    static BatchPlan of(int size, int batchSize, boolean dropLast, boolean shuffle, long seed, long epoch) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) order[i] = i;
        if (shuffle) {
            // SplittableRandom streams of nearby seeds overlap (seed s + k*gamma is stream s
            // shifted by k), so the epoch's seed is hashed, not added
            SplittableRandom random = new SplittableRandom(mix(seed ^ mix(epoch + 0x632BE59BD9B4E019L)));
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return new BatchPlan(order, batchSize, count(size, batchSize, dropLast));
    }

    /** Batches per epoch: the last, partial batch counts unless dropped. */
    static int count(int size, int batchSize, boolean dropLast) {
        return dropLast ? size / batchSize : (int) ((size + (long) batchSize - 1) / batchSize);
    }

    /** The dataset indices of batch {@code k}. */
    int[] indices(int k) {
        int from = k * batchSize;
        return Arrays.copyOfRange(order, from, Math.min(from + batchSize, order.length));
    }

    /** SplitMix64's finaliser: a bijection of longs that scatters nearby inputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

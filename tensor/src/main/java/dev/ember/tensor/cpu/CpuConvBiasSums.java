package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One thread's share of a convolution's bias gradient, db[o] = Σ over images and pixels of
 * dy[n][o][p], gathered by a weight-gradient kernel as it reads each row of dy anyway (a
 * separate pass over dy cost 0.3-0.5 ms a step in the training example). Each channel keeps a
 * vector of lane sums; {@link #total} adds the lanes in order, then the shares in order, in
 * float64, so the result depends neither on the JIT (reduceLanes' order does) nor on timing.
 */
final class CpuConvBiasSums {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** [channel][lane]. */
    private final float[] lanes;

    CpuConvBiasSums(int channels) {
        lanes = new float[channels * V];
    }

    /** Adds the {@code n} floats of dy from byte {@code at} of {@code dy} to channel o's sum. */
    void addRow(int o, MemorySegment dy, long at, int n) {
        FloatVector s = FloatVector.fromArray(F, lanes, o * V);
        for (int i = 0; i < n; i += V) {
            s = s.add(FloatVector.fromMemorySegment(F, dy, at + (long) i * Float.BYTES, ORDER, F.indexInRange(i, n)));
        }
        s.intoArray(lanes, o * V);
    }

    /** db[o] = the sum of every share's channel o, lanes first, shares in order. */
    static void total(CpuConvBiasSums[] shares, double[] db) {
        for (int o = 0; o < db.length; o++) {
            double sum = 0;
            for (CpuConvBiasSums s : shares) {
                double share = 0;
                for (int i = 0; i < V; i++) share += s.lanes[o * V + i];
                sum += share;
            }
            db[o] = sum;
        }
    }
}

package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Cross-entropy of logits and NLL of log-probabilities against int64 class targets on the
 * host, row by row in float64: the CPU kernels of the fused class-index loss (the op, its
 * checks and its gradient's declaration are in {@code ClassIndexLosses}; loss.cu has the CUDA
 * kernels, with the same formulas).
 *
 * <p>Why fused on the CPU too: composed of tensor ops, the loss is some fifteen small ops
 * forward (target checks, log-softmax, gather, weights, sums) and as many backward, each a
 * generic kernel that a classifier's [64, 10] logits keep in the JIT's slow tiers for the first
 * hundred steps of a run. Here it is two plain loops, and a row's loss does not depend on how
 * rows are split between threads; the reduction then sums the rows in order.
 */
public final class CpuLosses {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** The op's reductions, as loss.cu numbers them. */
    public static final int NONE = 0, MEAN = 1, SUM = 2;

    private CpuLosses() {}

    /**
     * A loss's operands: x [rows, classes], float32 when {@code f32} else float64, contiguous
     * from element {@code xAt} of {@code x}; the int64 targets [rows] from element {@code tAt};
     * the class weights [classes] of x's dtype from element {@code wAt}, or a null
     * {@code weight}; the label smoothing (cross-entropy only, else 0).
     */
    public record Operands(boolean f32, MemorySegment x, long xAt, MemorySegment target, long tAt, MemorySegment weight,
            long wAt, long rows, long classes, long ignoreIndex, double smoothing) {

        double x(long row, long c) { return load(f32, x, xAt + row * classes + c); }

        long target(long row) { return target.getAtIndex(I64, tAt + row); }

        double weight(long c) { return weight == null ? 1 : load(f32, weight, wAt + c); }

        boolean ignored(long t) { return t == ignoreIndex; }

        boolean smooth() { return smoothing > 0; }
    }

    /** The first row whose target is neither a class index nor ignore_index, or -1. */
    public static long firstBadTarget(Operands o) {
        for (long row = 0; row < o.rows; row++) {
            long t = o.target(row);
            if (!o.ignored(t) && (t < 0 || t >= o.classes)) return row;
        }
        return -1;
    }

    /**
     * The loss of every row (cross-entropy when {@code logits}, else NLL), with targets that
     * {@link #firstBadTarget} passed. Writes {@code out} (x's dtype, from element
     * {@code outAt}): each row's loss for {@link #NONE}, else their sum, divided for
     * {@link #MEAN} by the summed weights of the counted targets; each row's log-sum-exp to
     * {@code lse} (float64, or null); the summed weights to {@code totalWeight} (float64, one
     * element, or null).
     */
    public static void forward(Operands o, boolean logits, int reduction, MemorySegment out, long outAt, MemorySegment lse,
            long lseAt, MemorySegment totalWeight, long twAt) {
        double[] loss = new double[Math.toIntExact(o.rows)], weight = new double[loss.length];
        Parallel.forRange(o.rows, rowsPerTask(o), (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                double rowLse = logits ? logSumExp(o, row) : 0;
                if (lse != null) lse.setAtIndex(F64, lseAt + row, rowLse);
                long t = o.target(row);
                if (o.ignored(t)) continue; // +0.0 loss and weight: PyTorch prints an ignored target's loss as 0, not -0
                double w = o.weight(t);
                double l = -(o.x(row, t) - rowLse) * w;
                if (logits && o.smooth()) l = l * (1 - o.smoothing) + uniform(o, row, rowLse) * (o.smoothing / o.classes);
                loss[(int) row] = l;
                weight[(int) row] = w;
            }
        });
        if (reduction == NONE) {
            for (int row = 0; row < loss.length; row++) store(o.f32, out, outAt + row, loss[row]);
        } else {
            double sum = 0, weights = 0;
            for (int row = 0; row < loss.length; row++) {
                sum += loss[row];
                weights += weight[row];
            }
            store(o.f32, out, outAt, reduction == MEAN ? sum / weights : sum);
            if (totalWeight != null) totalWeight.setAtIndex(F64, twAt, weights);
        }
    }

    /**
     * The gradient of x [rows, classes] (x's dtype, written from element {@code dxAt}): the
     * loss's gradient is each row's {@code dloss} (x's dtype, from element {@code dAt}) for a
     * {@link #NONE} reduction, else the one value {@code grad} (already divided by the summed
     * weights for {@link #MEAN}). Ignored rows get 0. {@code lse} holds the forward's
     * log-sum-exps (cross-entropy only).
     */
    public static void backward(Operands o, boolean logits, MemorySegment lse, long lseAt, MemorySegment dloss, long dAt,
            double grad, MemorySegment dx, long dxAt) {
        double keep = 1 - o.smoothing, spread = o.smoothing / o.classes;
        double weightSum = o.smooth() ? weightSum(o) : o.classes;
        Parallel.forRange(o.rows, rowsPerTask(o), (lo, hi) -> {
            for (long row = lo; row < hi; row++) {
                long t = o.target(row), at = dxAt + row * o.classes;
                if (o.ignored(t)) {
                    for (long c = 0; c < o.classes; c++) store(o.f32, dx, at + c, 0);
                    continue;
                }
                double g = dloss == null ? grad : load(o.f32, dloss, dAt + row), w = o.weight(t);
                if (!logits) { // d(-w x[t]) / dx: -w at the target, 0 elsewhere
                    for (long c = 0; c < o.classes; c++) store(o.f32, dx, at + c, c == t ? -(w * g) : 0);
                    continue;
                }
                // d/dx_c of (1-e) w_t (-log p_t) + e/C sum_k w_k (-log p_k) = p_c ((1-e) w_t + e/C sum_k w_k) - (1-e) w_t [c = t] - e/C w_c
                double hit = o.smooth() ? keep * w : w, scale = o.smooth() ? hit + spread * weightSum : w;
                double rowLse = lse.getAtIndex(F64, lseAt + row);
                for (long c = 0; c < o.classes; c++) {
                    double d = Math.exp(o.x(row, c) - rowLse) * scale;
                    if (c == t) d -= hit;
                    if (o.smooth()) d -= spread * o.weight(c);
                    store(o.f32, dx, at + c, g * d);
                }
            }
        });
    }

    /** log(sum exp x[row, c]) through the row's maximum; NaN when the row has a NaN or +inf, -inf when all are -inf. */
    private static double logSumExp(Operands o, long row) {
        double max = Double.NEGATIVE_INFINITY;
        for (long c = 0; c < o.classes; c++) {
            double v = o.x(row, c);
            if (v > max || v != v) max = v;
            if (v != v) break;
        }
        if (max == Double.NEGATIVE_INFINITY || max != max) return max;
        double sum = 0;
        for (long c = 0; c < o.classes; c++) sum += Math.exp(o.x(row, c) - max);
        return max + Math.log(sum);
    }

    /** The smoothing term's -sum_c w_c log p_c of a row. */
    private static double uniform(Operands o, long row, double lse) {
        double sum = 0;
        for (long c = 0; c < o.classes; c++) sum += (o.x(row, c) - lse) * o.weight(c);
        return -sum;
    }

    private static double weightSum(Operands o) {
        double sum = 0;
        for (long c = 0; c < o.classes; c++) sum += o.weight(c);
        return sum;
    }

    /** Whole rows per parallel task, about {@link Parallel#GRAIN} elements; a classifier's few small rows stay on one thread. */
    private static long rowsPerTask(Operands o) {
        return Math.max(1, Parallel.GRAIN / Math.max(1, o.classes));
    }

    private static double load(boolean f32, MemorySegment s, long i) {
        return f32 ? s.getAtIndex(F32, i) : s.getAtIndex(F64, i);
    }

    private static void store(boolean f32, MemorySegment s, long i, double v) {
        if (f32) {
            s.setAtIndex(F32, i, (float) v);
        } else {
            s.setAtIndex(F64, i, v);
        }
    }
}

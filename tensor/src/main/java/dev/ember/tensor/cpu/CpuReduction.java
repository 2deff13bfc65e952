package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import dev.ember.tensor.cpu.CpuReduceKernels.Kernel;
import dev.ember.tensor.cpu.CpuReduceKernels.Partials;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The reduction engine. Outputs are strided over the input's shape with stride 0 on the
 * reduced dims (as a keepdim result broadcast back), so one walk serves every layout. Three
 * schedules:
 * <ul>
 *   <li>one output position per step, outputs split across threads: the general case, and
 *       float32 rows reduced along their contiguous dim (each run takes the op's vector form);</li>
 *   <li>a single output over many elements: fixed-size chunks of the reduced range fold into
 *       partials in parallel, merged in order afterwards, so the result has the same bits for
 *       every thread count;</li>
 *   <li>float32 reduced over outer dims with a contiguous kept dim (sum(dim=0) of [N, C]):
 *       whole rows are folded into column accumulators with vectors across the columns.</li>
 * </ul>
 */
public final class CpuReduction {
    /** Reduced positions per partial when one output is split; fixed, so results are deterministic. */
    static final long CHUNK = 1L << 16;
    /** Widest column tile in the column schedule: its accumulators stay in L1. */
    static final int MAX_TILE = 1024;

    private CpuReduction() {}

    /**
     * out = op folded over the dims flagged in {@code reduced}.
     *
     * @param out     strided over {@code shape}, stride 0 on reduced dims
     * @param centers per-output centres for centred ops (strided as {@code out}), or null
     */
    public static void reduce(CpuReduceOp op, long[] shape, boolean[] reduced, Strided in, Strided out, Strided centers) {
        Strided[] operands = centers == null ? new Strided[] {in, out} : new Strided[] {in, out, centers};
        CpuReduceGeometry g = new CpuReduceGeometry(shape, reduced, true, operands);
        if (g.outputs() == 0) return;
        boolean vector = op.vector() != null && in.dtype() == DType.FLOAT32;
        if (vector && columnar(g)) {
            columns(op, g, in, out, centers);
        } else {
            schedule(g, new CpuReduceKernels.Fold(op, in, out, centers));
        }
    }

    /**
     * The index (int64) of the largest ({@code max}) or smallest element over the reduced dims,
     * counted row-major over them, and optionally its value. Callers refuse empty reductions.
     */
    public static void reduceWithIndex(boolean max, long[] shape, boolean[] reduced, Strided in, Strided indices,
                                       Strided values) {
        Strided[] operands = values == null ? new Strided[] {in, indices} : new Strided[] {in, indices, values};
        CpuReduceGeometry g = new CpuReduceGeometry(shape, reduced, false, operands);
        if (g.outputs() == 0) return;
        schedule(g, new CpuReduceKernels.Arg(max, in, indices, values));
    }

    private static void schedule(CpuReduceGeometry g, Kernel k) {
        long count = g.count();
        if (g.outputs() == 1 && count > CHUNK) {
            chunked(g, k);
            return;
        }
        long grain = Math.max(1, Parallel.GRAIN / Math.max(1, count));
        Parallel.forRange(g.outputs(), grain, (start, end) -> {
            CpuReduceGeometry.Outputs outputs = g.outputsFrom(start);
            CpuReduceGeometry.Runs runs = g.runs();
            Partials p = new Partials(1);
            for (long i = start; i < end; i++) {
                long[] at = outputs.offsets();
                k.fold(runs, at, 0, count, p, 0);
                k.write(at, p, 0, count);
                outputs.next();
            }
        });
    }

    /** One output: partials of CHUNK positions each, folded in parallel and merged left to right. */
    private static void chunked(CpuReduceGeometry g, Kernel k) {
        long count = g.count();
        int chunks = Math.toIntExact((count + CHUNK - 1) / CHUNK);
        long[] at = g.outputsFrom(0).offsets();
        Partials p = new Partials(chunks);
        Parallel.forRange(chunks, 1, (start, end) -> {
            CpuReduceGeometry.Runs runs = g.runs();
            for (long c = start; c < end; c++) {
                k.fold(runs, at, c * CHUNK, Math.min(count, (c + 1) * CHUNK), p, (int) c);
            }
        });
        for (int c = 1; c < chunks; c++) k.merge(p, 0, c);
        k.write(at, p, 0, count);
    }

    /** Whether the kept dims end in a contiguous run of the input, with something to fold into it. */
    private static boolean columnar(CpuReduceGeometry g) {
        CpuReduceGeometry.Group kept = g.kept;
        int last = kept.rank - 1;
        return kept.sizes[last] > 1 && kept.strides[0][last] == 4 && g.count() > 1;
    }

    /**
     * The column schedule: tasks are tiles of the contiguous kept dim (within one position of
     * the outer kept dims); each folds every reduced row of its tile with the op's column form.
     * A column's result does not depend on the tiling, so neither does it on the thread count.
     */
    private static void columns(CpuReduceOp op, CpuReduceGeometry g, Strided in, Strided out, Strided centers) {
        CpuReduceGeometry.Group kept = g.kept;
        int last = kept.rank - 1;
        long cols = kept.sizes[last], count = g.count();
        long outer = g.outputs() / cols;
        int tile = tileWidth(cols, outer);
        long tilesPerRow = (cols + tile - 1) / tile;
        MemorySegment src = in.segment(), dst = out.segment();
        long outStride = kept.strides[1][last], centerStride = centers == null ? 0 : kept.strides[2][last];
        long grain = Math.max(1, Parallel.GRAIN / Math.max(1, count * tile));
        Parallel.forRange(outer * tilesPerRow, grain, (start, end) -> {
            float[] floatCenters = new float[tile];
            double[] exactCenters = new double[tile], acc = new double[tile];
            CpuReduceGeometry.Runs runs = g.runs();
            CpuReduceGeometry.Outputs outputs = g.outputsFrom(0);
            for (long t = start; t < end; t++) {
                long first = (t % tilesPerRow) * tile;
                int n = (int) Math.min(tile, cols - first);
                outputs.seek(t / tilesPerRow * cols + first);
                long[] at = outputs.offsets();
                for (int j = 0; j < n && centers != null; j++) {
                    exactCenters[j] = Elements.getDouble(centers.segment(), centers.dtype(), at[2] + j * centerStride);
                    floatCenters[j] = (float) exactCenters[j];
                }
                Arrays.fill(acc, 0, n, op.identity());
                runs.start(at[0], 0, count);
                while (runs.next()) {
                    op.vector().columns().fold(src, runs.offset, runs.stride, runs.n, n, floatCenters, acc);
                }
                for (int j = 0; j < n; j++) {
                    double result = op.finish().apply(acc[j], count, exactCenters[j]);
                    Elements.putDouble(dst, out.dtype(), at[1] + j * outStride, result);
                }
            }
        });
    }

    /** Whole vectors, at most MAX_TILE, and narrow enough that every thread gets a tile. */
    private static int tileWidth(long cols, long outer) {
        int lanes = CpuReductionVectors.GROUP;
        long tilesPerRow = Math.max(1, Parallel.numThreads() / outer);
        long width = (cols + tilesPerRow - 1) / tilesPerRow;
        return (int) Math.min(MAX_TILE, (width + lanes - 1) / lanes * lanes);
    }
}

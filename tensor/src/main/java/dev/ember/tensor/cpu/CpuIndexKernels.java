package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.OptionalLong;

/**
 * CPU kernels that move elements to or from positions read out of an index tensor: gather (and
 * index_select), scatter, masked fill and one-hot. None of these ops converts dtypes, so they
 * move raw bytes. Index operands (and one-hot's classes) must be int32 or int64.
 *
 * <p>The kernels trust their indices: callers must run {@link #firstOutOfRange} over every index
 * first, so that a bad index is reported before any memory is touched.
 */
public final class CpuIndexKernels {
    private CpuIndexKernels() {}

    /** The first index (in row-major order) outside [0, size), if any. Sequential, so the report is deterministic. */
    public static OptionalLong firstOutOfRange(long[] shape, Strided index, long size) {
        MemorySegment s = index.segment();
        int width = indexWidth(index);
        long[] bad = new long[1];
        boolean[] found = new boolean[1];
        StridedLoop.run(shape, new long[][] {index.byteStrides()}, new long[] {index.byteOffset()}, false, (n, off, st) -> {
            if (found[0]) return;
            long o = off[0];
            for (long i = 0; i < n; i++, o += st[0]) {
                long v = readIndex(s, o, width);
                if (v < 0 || v >= size) {
                    bad[0] = v;
                    found[0] = true;
                    return;
                }
            }
        });
        return found[0] ? OptionalLong.of(bad[0]) : OptionalLong.empty();
    }

    /**
     * For every position p of {@code shape}, copies {@code blockBytes} bytes to {@code out} at p
     * from {@code self} at p moved {@code index[p] * dimStride} elements along the indexed dim
     * ({@code self}'s stride along that dim must be 0 here: the index supplies that coordinate).
     * A one-element block is gather; a block that is a contiguous inner slice is index_select
     * along an outer dim, where each position copies a whole row.
     *
     * @param blockBytes self's element size, or a block of more than 8 bytes
     */
    public static void gather(long[] shape, Strided out, Strided self, long dimStride, Strided index, long blockBytes) {
        if (blockBytes <= Long.BYTES && blockBytes != self.dtype().itemSize()) {
            throw new IllegalArgumentException("a block of " + blockBytes + " bytes is neither one element nor a bulk copy");
        }
        MemorySegment o = out.segment(), x = self.segment(), ix = index.segment();
        int width = indexWidth(index);
        long step = dimStride * self.dtype().itemSize();
        StridedLoop.run(shape, new long[][] {out.byteStrides(), self.byteStrides(), index.byteStrides()},
                new long[] {out.byteOffset(), self.byteOffset(), index.byteOffset()}, true, (n, off, st) -> {
                    long po = off[0], px = off[1], pi = off[2];
                    for (long i = 0; i < n; i++, po += st[0], px += st[1], pi += st[2]) {
                        move(x, px + readIndex(ix, pi, width) * step, o, po, blockBytes);
                    }
                });
    }

    /**
     * For every position p of {@code shape}: {@code self} at p moved {@code index[p] * dimStride}
     * elements along the indexed dim (whose stride in {@code self} must be 0 here) becomes
     * {@code src} at p. {@code src} has self's dtype. Runs on one thread in row-major order, so
     * of duplicate indices the last write wins.
     */
    public static void scatter(long[] shape, Strided self, long dimStride, Strided index, Strided src) {
        MemorySegment x = self.segment(), ix = index.segment(), from = src.segment();
        int width = indexWidth(index);
        int size = self.dtype().itemSize();
        long step = dimStride * size;
        StridedLoop.run(shape, new long[][] {self.byteStrides(), index.byteStrides(), src.byteStrides()},
                new long[] {self.byteOffset(), index.byteOffset(), src.byteOffset()}, false, (n, off, st) -> {
                    long px = off[0], pi = off[1], pf = off[2];
                    for (long i = 0; i < n; i++, px += st[0], pi += st[1], pf += st[2]) {
                        move(from, pf, x, px + readIndex(ix, pi, width) * step, size);
                    }
                });
    }

    /**
     * As {@link #scatter}, but adding: self at p moved {@code index[p]} along the dim gains
     * {@code src} at p. One thread in row-major order, so duplicate indices accumulate in a
     * fixed order and the result does not change from run to run.
     */
    public static void scatterAdd(long[] shape, Strided self, long dimStride, Strided index, Strided src) {
        MemorySegment x = self.segment(), ix = index.segment(), from = src.segment();
        DType t = self.dtype();
        int width = indexWidth(index);
        int size = t.itemSize();
        long step = dimStride * size;
        boolean floating = t.isFloatingPoint();
        StridedLoop.run(shape, new long[][] {self.byteStrides(), index.byteStrides(), src.byteStrides()},
                new long[] {self.byteOffset(), index.byteOffset(), src.byteOffset()}, false, (n, off, st) -> {
                    long px = off[0], pi = off[1], pf = off[2];
                    for (long i = 0; i < n; i++, px += st[0], pi += st[1], pf += st[2]) {
                        long at = px + readIndex(ix, pi, width) * step;
                        if (floating) {
                            Elements.putDouble(x, t, at, Elements.getDouble(x, t, at) + Elements.getDouble(from, t, pf));
                        } else {
                            Elements.putLong(x, t, at, Elements.getLong(x, t, at) + Elements.getLong(from, t, pf));
                        }
                    }
                });
    }

    /**
     * self[p] = value wherever mask[p] (bool) is set; {@code value} is a one-element operand of
     * self's dtype. Every element is rewritten (with its old bits where the mask is clear): a
     * select instead of a branch, since masks are often random and a mispredicted branch per
     * element costs far more than the store.
     */
    public static void maskedFill(long[] shape, Strided self, Strided mask, Strided value) {
        MemorySegment x = self.segment(), m = mask.segment();
        int size = self.dtype().itemSize();
        long bits = load(value.segment(), value.byteOffset(), size);
        StridedLoop.run(shape, new long[][] {self.byteStrides(), mask.byteStrides()},
                new long[] {self.byteOffset(), mask.byteOffset()}, true, (n, off, st) -> {
                    long px = off[0], pm = off[1];
                    for (long i = 0; i < n; i++, px += st[0], pm += st[1]) {
                        long old = load(x, px, size);
                        store(x, px, size, m.get(ValueLayout.JAVA_BYTE, pm) != 0 ? bits : old);
                    }
                });
    }

    /** {min, max} of an index operand over a non-empty {@code shape}. */
    public static long[] minMax(long[] shape, Strided in) {
        MemorySegment s = in.segment();
        int width = indexWidth(in);
        long[] range = {Long.MAX_VALUE, Long.MIN_VALUE};
        StridedLoop.run(shape, new long[][] {in.byteStrides()}, new long[] {in.byteOffset()}, false, (n, off, st) -> {
            long lo = range[0], hi = range[1], p = off[0];
            for (long i = 0; i < n; i++, p += st[0]) {
                long v = readIndex(s, p, width);
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            range[0] = lo;
            range[1] = hi;
        });
        return range;
    }

    /**
     * Sets out[p][classes[p]] = 1 for every position p of {@code shape}. {@code out} is int64,
     * zero-filled, addressed over {@code shape} with its class dim contiguous; class values must
     * already be checked to lie in range.
     */
    public static void oneHot(long[] shape, Strided out, Strided classes) {
        MemorySegment o = out.segment(), c = classes.segment();
        int width = indexWidth(classes);
        StridedLoop.run(shape, new long[][] {out.byteStrides(), classes.byteStrides()},
                new long[] {out.byteOffset(), classes.byteOffset()}, true, (n, off, st) -> {
                    long po = off[0], pc = off[1];
                    for (long i = 0; i < n; i++, po += st[0], pc += st[1]) {
                        o.set(Elements.I64, po + readIndex(c, pc, width) * Long.BYTES, 1L);
                    }
                });
    }

    /** The byte width of an index operand, which must be int32 or int64. */
    private static int indexWidth(Strided index) {
        if (index.dtype() != DType.INT32 && index.dtype() != DType.INT64) {
            throw new IllegalArgumentException("indices must be int32 or int64, not " + index.dtype());
        }
        return index.dtype().itemSize();
    }

    /**
     * An int32 or int64 index. The width is loop-invariant, so this costs one predictable test,
     * where a switch over the dtype per element would cost a table lookup and an indirect jump.
     */
    private static long readIndex(MemorySegment s, long offset, int width) {
        return width == Long.BYTES ? s.get(Elements.I64, offset) : s.get(Elements.I32, offset);
    }

    /**
     * Copies {@code bytes} bytes: an element (1, 2, 4 or 8 bytes) through one typed access,
     * anything larger in bulk.
     * The size is loop-invariant in every caller, so its tests cost nothing in the loops.
     */
    private static void move(MemorySegment from, long fromOffset, MemorySegment to, long toOffset, long bytes) {
        if (bytes <= Long.BYTES) store(to, toOffset, (int) bytes, load(from, fromOffset, (int) bytes));
        else MemorySegment.copy(from, fromOffset, to, toOffset, bytes);
    }

    /** The raw bits of an element of {@code size} (1, 2, 4 or 8) bytes. */
    private static long load(MemorySegment s, long offset, int size) {
        if (size == 4) return s.get(Elements.I32, offset);
        if (size == 8) return s.get(Elements.I64, offset);
        if (size == 2) return s.get(Elements.I16, offset);
        return s.get(ValueLayout.JAVA_BYTE, offset);
    }

    /** Writes the low {@code size} bytes of {@code bits}. */
    private static void store(MemorySegment s, long offset, int size, long bits) {
        if (size == 4) s.set(Elements.I32, offset, (int) bits);
        else if (size == 8) s.set(Elements.I64, offset, bits);
        else if (size == 2) s.set(Elements.I16, offset, (short) bits);
        else s.set(ValueLayout.JAVA_BYTE, offset, (byte) bits);
    }
}

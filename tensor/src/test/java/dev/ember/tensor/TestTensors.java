package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Shared helpers for the core tests: fresh seeded randomness (the seed goes into every message),
 * random shapes, random tensors in random layouts (permuted, sliced with steps, expanded) whose
 * expected values and geometry are computed here in plain Java without Ember, and comparison of
 * results with a float64 reference at per-dtype tolerances.
 */
final class TestTensors {
    private TestTensors() {}

    static final DType[] ALL = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16,
            DType.INT32, DType.INT64, DType.UINT8, DType.BOOL};
    static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16};
    static final DType[] NUMERIC = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16,
            DType.INT32, DType.INT64, DType.UINT8};

    static boolean isFloat(DType t) {
        return t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.FLOAT16 || t == DType.BFLOAT16;
    }

    // ------------------------------------------------------------------ scopes

    /** Runs each test inside an Ember scope, so what a test makes is freed when it ends. */
    static final class Scoped implements BeforeEachCallback, AfterEachCallback {
        private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(Scoped.class);

        @Override
        public void beforeEach(ExtensionContext context) {
            context.getStore(NS).put("scope", Ember.scope());
        }

        @Override
        public void afterEach(ExtensionContext context) {
            Scope mine = context.getStore(NS).remove("scope", Scope.class);
            // a failed test may have left inner scopes open; close them innermost first
            for (Scope s = Scope.current(); s != null && s != mine; s = Scope.current()) s.close();
            if (mine != null && Scope.current() == mine) mine.close();
        }
    }

    // ------------------------------------------------------------------ randomness

    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** A random source with a fresh seed (or -Dember.test.seed=N to replay one); the seed is in {@link #toString()}. */
    static final class Rng {
        final long seed;
        private final SplittableRandom r;

        private Rng(long seed) {
            this.seed = seed;
            this.r = new SplittableRandom(seed);
        }

        static Rng fresh() {
            String fixed = System.getProperty("ember.test.seed");
            if (fixed != null && !fixed.isEmpty()) return new Rng(Long.parseLong(fixed));
            return new Rng(System.nanoTime() + SEQUENCE.incrementAndGet() * 0x9E3779B97F4A7C15L);
        }

        /** Uniform in [lo, hi] inclusive. */
        int nextInt(int lo, int hi) { return r.nextInt(lo, hi + 1); }

        long nextLong(long lo, long hi) { return r.nextLong(lo, hi + 1); }

        double nextDouble(double lo, double hi) { return r.nextDouble(lo, hi); }

        double nextDouble() { return r.nextDouble(); }

        boolean chance(double p) { return r.nextDouble() < p; }

        boolean nextBoolean() { return r.nextBoolean(); }

        <T> T pick(T[] options) { return options[r.nextInt(options.length)]; }

        int[] permutation(int n) {
            int[] p = new int[n];
            for (int i = 0; i < n; i++) p[i] = i;
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = p[i]; p[i] = p[j]; p[j] = t;
            }
            return p;
        }

        @Override
        public String toString() { return "seed=" + seed + " (replay with -Dember.test.seed=" + seed + ")"; }
    }

    // ------------------------------------------------------------------ shapes

    /** Rank 0..maxRank, dims 1..maxDim, and now and then a zero-size dim. */
    static long[] randomShape(Rng r, int maxRank, int maxDim) {
        long[] s = new long[r.nextInt(0, maxRank)];
        for (int i = 0; i < s.length; i++) s[i] = r.chance(0.04) ? 0 : r.nextInt(1, maxDim);
        return s;
    }

    /** A shape that broadcasts to {@code shape}: some leading dims dropped, some others set to 1. */
    static long[] broadcastableTo(Rng r, long[] shape) {
        int drop = r.chance(0.3) ? r.nextInt(0, shape.length) : 0;
        long[] s = Arrays.copyOfRange(shape, drop, shape.length);
        for (int i = 0; i < s.length; i++) if (r.chance(0.3)) s[i] = 1;
        return s;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    /** The row-major multi-index of flat position {@code flat}. */
    static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 0) return idx;
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    /** The broadcast shape, computed here by the rule (right-aligned, 1 stretches). */
    static long[] broadcastShape(long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long sa = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            long sb = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (sa != sb && sa != 1 && sb != 1) throw new AssertionError("test bug: not broadcastable");
            out[i] = sa == 1 ? sb : sa;
        }
        return out;
    }

    /** Values of a tensor of {@code shape} (row-major) read as if broadcast to {@code target}. */
    static double[] broadcastValues(double[] values, long[] shape, long[] target) {
        Geom g = Geom.contiguous(shape).expand(target);
        return g.gather(values);
    }

    // ------------------------------------------------------------------ geometry

    /** The expected geometry of a view, computed without Ember: shape, strides and offset in elements. */
    record Geom(long[] shape, long[] strides, long offset) {
        static Geom contiguous(long[] shape) {
            long[] st = new long[shape.length];
            long s = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                st[i] = s;
                s *= Math.max(1, shape[i]);
            }
            return new Geom(shape.clone(), st, 0);
        }

        long numel() { return TestTensors.numel(shape); }

        Geom permute(int[] dims) {
            long[] s = new long[dims.length], st = new long[dims.length];
            for (int i = 0; i < dims.length; i++) { s[i] = shape[dims[i]]; st[i] = strides[dims[i]]; }
            return new Geom(s, st, offset);
        }

        Geom transpose(int a, int b) {
            int[] dims = new int[shape.length];
            for (int i = 0; i < dims.length; i++) dims[i] = i;
            dims[a] = b;
            dims[b] = a;
            return permute(dims);
        }

        /** In-range slice: {@code count} elements from {@code start} every {@code step}. */
        Geom slice(int dim, long start, long count, long step) {
            long[] s = shape.clone(), st = strides.clone();
            s[dim] = count;
            st[dim] = strides[dim] * step;
            return new Geom(s, st, offset + start * strides[dim]);
        }

        Geom select(int dim, long index) {
            long[] s = new long[shape.length - 1], st = new long[shape.length - 1];
            for (int i = 0, j = 0; i < shape.length; i++) {
                if (i != dim) { s[j] = shape[i]; st[j++] = strides[i]; }
            }
            return new Geom(s, st, offset + index * strides[dim]);
        }

        Geom expand(long[] target) {
            int shift = target.length - shape.length;
            long[] st = new long[target.length];
            for (int i = 0; i < target.length; i++) {
                int src = i - shift;
                if (src < 0) st[i] = 0;
                else if (shape[src] == target[i]) st[i] = strides[src];
                else if (shape[src] == 1) st[i] = 0;
                else throw new AssertionError("test bug: cannot expand");
            }
            return new Geom(target.clone(), st, offset);
        }

        /** Storage index of the element at row-major position {@code flat}. */
        long position(long flat) {
            long pos = offset;
            for (int d = shape.length - 1; d >= 0; d--) {
                pos += (flat % shape[d]) * strides[d];
                flat /= shape[d];
            }
            return pos;
        }

        double[] gather(double[] base) {
            double[] out = new double[Math.toIntExact(numel())];
            for (int i = 0; i < out.length; i++) out[i] = base[Math.toIntExact(position(i))];
            return out;
        }

        /** Whether two positions of this view are the same memory (a stride-0 dim of size > 1). */
        boolean hasInternalOverlap() {
            for (int d = 0; d < shape.length; d++) if (strides[d] == 0 && shape[d] > 1) return true;
            return false;
        }

        @Override
        public String toString() {
            return "shape=" + Arrays.toString(shape) + " strides=" + Arrays.toString(strides) + " offset=" + offset;
        }
    }

    // ------------------------------------------------------------------ values

    /** Where random values come from. */
    record Domain(double lo, double hi, double specials, double[] picks) {
        /** Uniform in [lo, hi] (integers for integer dtypes), plus a share of NaN/inf/0/halves for floats. */
        static Domain range(double lo, double hi) { return new Domain(lo, hi, 0.06, null); }

        /** As {@link #range} but never special values. */
        static Domain plain(double lo, double hi) { return new Domain(lo, hi, 0, null); }

        /** Only values from {@code picks} (then cast to the dtype), so comparisons see ties. */
        static Domain of(double... picks) { return new Domain(0, 0, 0, picks); }

        static final Domain DEFAULT = range(-4, 4);
    }

    private static final double[] SPECIALS = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1.0};

    /** One random value of dtype {@code t} from {@code d}, exactly representable in {@code t}. */
    static double randomValue(Rng r, DType t, Domain d) {
        if (d.picks() != null) return exact(t, d.picks()[r.nextInt(0, d.picks().length - 1)]);
        if (t == DType.BOOL) return r.nextBoolean() ? 1 : 0;
        if (!isFloat(t)) {
            long lo = (long) Math.ceil(d.lo()), hi = (long) Math.floor(d.hi());
            if (t == DType.UINT8) { lo = Math.max(lo, 0); hi = Math.min(hi, 255); }
            if (hi < lo) { lo = t == DType.UINT8 ? 0 : -3; hi = t == DType.UINT8 ? 9 : 3; }
            return r.nextLong(lo, hi);
        }
        double v = r.chance(d.specials()) ? r.pick(box(SPECIALS)) : r.nextDouble(d.lo(), d.hi());
        return exact(t, v);
    }

    private static Double[] box(double[] a) {
        Double[] b = new Double[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return b;
    }

    /** {@code v} made representable in {@code t}: rounded for fp types (bf16 by truncation), truncated and wrapped for ints. */
    static double exact(DType t, double v) {
        return switch (t) {
            case FLOAT64 -> v;
            case FLOAT32 -> (float) v;
            case FLOAT16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case BFLOAT16 -> Float.intBitsToFloat(Float.floatToRawIntBits((float) v) & 0xFFFF0000);
            case INT32 -> (int) (long) v;
            case INT64 -> (long) v;
            case UINT8 -> ((long) v) & 0xFF;
            case BOOL -> v != 0 ? 1 : 0;
        };
    }

    /** A reference value rounded to how dtype {@code t} stores it (fp: nearest; bf16 only to float32, the tolerance covers the rest). */
    static double roundTo(DType t, double v) {
        return switch (t) {
            case FLOAT64 -> v;
            case FLOAT32, BFLOAT16 -> (float) v;
            case FLOAT16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            default -> throw new AssertionError("roundTo is for floating types, not " + t);
        };
    }

    /** An integer result wrapped into dtype {@code t}, as two's-complement storage would hold it. */
    static long wrap(DType t, long v) {
        return switch (t) {
            case INT32 -> (int) v;
            case INT64 -> v;
            case UINT8 -> v & 0xFF;
            case BOOL -> v != 0 ? 1 : 0;
            default -> throw new AssertionError("wrap is for integer types, not " + t);
        };
    }

    /** The type PyTorch computes in: half types compute in float32. */
    static DType computeType(DType t) {
        return t == DType.FLOAT16 || t == DType.BFLOAT16 ? DType.FLOAT32 : t;
    }

    /** Makes a contiguous tensor of dtype {@code t} and {@code shape} from exactly representable values. */
    static Tensor fromValues(DType t, long[] shape, double[] v) {
        long[] s = shape.length == 0 ? new long[] {1} : shape;
        int n = v.length;
        Tensor made = switch (t) {
            case FLOAT32, FLOAT16, BFLOAT16 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) a[i] = (float) v[i];
                Tensor f = Tensor.fromArray(a, s);
                if (t == DType.FLOAT32) yield f;
                Tensor c = f.to(t);
                f.close();
                yield c;
            }
            case FLOAT64 -> Tensor.fromArray(v.clone(), s);
            case INT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) a[i] = (int) v[i];
                yield Tensor.fromArray(a, s);
            }
            case INT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) a[i] = (long) v[i];
                yield Tensor.fromArray(a, s);
            }
            case UINT8 -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) a[i] = (byte) (long) v[i];
                yield Tensor.fromArray(a, s);
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) a[i] = v[i] != 0;
                yield Tensor.fromArray(a, s);
            }
        };
        if (shape.length != 0) return made;
        Tensor scalar = made.view();
        made.close();
        return scalar;
    }

    // ------------------------------------------------------------------ random tensors

    /** How a random tensor is laid out in memory. */
    enum Layout {
        CONTIGUOUS, PERMUTED, SLICED, SLICED_PERMUTED, EXPANDED;

        static final Layout[] WRITABLE = {CONTIGUOUS, PERMUTED, SLICED, SLICED_PERMUTED};

        boolean writable() { return this != EXPANDED; }
    }

    /**
     * A tensor with its expected contents: {@code values} in row-major order of its shape; the
     * {@code base} tensor it views and that base's own values; the view's expected geometry.
     */
    record TT(Tensor t, double[] values, Tensor base, double[] baseValues, Geom geom, String desc) {
        DType dtype() { return t.dtype(); }

        long[] shape() { return geom.shape(); }

        @Override
        public String toString() { return desc; }
    }

    static TT random(Rng r, DType t, long[] shape) { return random(r, t, shape, r.pick(Layout.values()), Domain.DEFAULT); }

    static TT random(Rng r, DType t, long[] shape, Domain d) { return random(r, t, shape, r.pick(Layout.values()), d); }

    /**
     * A random tensor of logical {@code shape} and dtype {@code t} laid out as {@code layout}; the
     * view's strides and offset are checked against the geometry computed here.
     */
    static TT random(Rng r, DType t, long[] shape, Layout layout, Domain d) {
        int rank = shape.length;
        if (rank < 2 && (layout == Layout.PERMUTED || layout == Layout.SLICED_PERMUTED)) {
            layout = rank == 1 ? Layout.SLICED : Layout.CONTIGUOUS;
        }
        long[] baseShape = shape.clone();
        long[] sliceStart = new long[rank], sliceStep = new long[rank];
        int[] perm = null, inverse = null;
        long[] reduced = null;
        boolean sliced = layout == Layout.SLICED || layout == Layout.SLICED_PERMUTED;
        boolean permuted = layout == Layout.PERMUTED || layout == Layout.SLICED_PERMUTED;
        if (permuted) {
            perm = r.permutation(rank);
            inverse = new int[rank];
            for (int i = 0; i < rank; i++) inverse[perm[i]] = i;
            for (int i = 0; i < rank; i++) baseShape[i] = shape[perm[i]];
        }
        if (sliced) {
            for (int i = 0; i < rank; i++) {
                sliceStart[i] = r.nextInt(0, 2);
                sliceStep[i] = r.nextInt(1, 3);
                long n = baseShape[i];
                baseShape[i] = sliceStart[i] + (n == 0 ? 0 : (n - 1) * sliceStep[i] + 1) + r.nextInt(0, 2);
            }
        }
        if (layout == Layout.EXPANDED) {
            reduced = broadcastableTo(r, shape);
            baseShape = reduced;
        }
        double[] baseValues = new double[Math.toIntExact(numel(baseShape))];
        for (int i = 0; i < baseValues.length; i++) baseValues[i] = randomValue(r, t, d);
        Tensor base = fromValues(t, baseShape, baseValues);
        Geom g = Geom.contiguous(baseShape);
        Tensor view = base;
        if (sliced) {
            for (int i = 0; i < rank; i++) {
                long count = permuted ? shape[perm[i]] : shape[i];
                long end = count == 0 ? sliceStart[i] : sliceStart[i] + (count - 1) * sliceStep[i] + 1;
                view = replace(view, base, view.slice(i, sliceStart[i], end, sliceStep[i]));
                g = g.slice(i, sliceStart[i], count, sliceStep[i]);
            }
        }
        if (permuted) {
            view = replace(view, base, view.permute(inverse));
            g = g.permute(inverse);
        }
        if (layout == Layout.EXPANDED) {
            view = view.expand(shape);
            g = g.expand(shape);
        }
        if (view == base) view = base.view(shape);
        String desc = t + Arrays.toString(shape) + " " + layout + (perm != null ? " perm=" + Arrays.toString(perm) : "")
                + (sliced ? " start=" + Arrays.toString(sliceStart) + " step=" + Arrays.toString(sliceStep) : "")
                + (reduced != null ? " from " + Arrays.toString(reduced) : "");
        assertArrayEquals(shape, view.shape(), desc + ": shape");
        assertGeometry(desc, g, view);
        return new TT(view, g.gather(baseValues), base, baseValues, g, desc);
    }

    private static Tensor replace(Tensor current, Tensor base, Tensor next) {
        if (current != base) current.close();
        return next;
    }

    /** Strides (except of size-1 dims, which PyTorch leaves free) and offset are as computed here. */
    static void assertGeometry(String ctx, Geom g, Tensor t) {
        assertArrayEquals(g.shape(), t.shape(), ctx + ": shape");
        long[] st = t.strides();
        for (int d = 0; d < st.length; d++) {
            if (g.shape()[d] != 1 && g.numel() != 0) {
                assertEquals(g.strides()[d], st[d], ctx + ": stride of dim " + d + " (expected " + g + ", got "
                        + Arrays.toString(st) + ")");
            }
        }
        if (g.numel() != 0) assertEquals(g.offset(), t.storageOffset(), ctx + ": storage offset");
    }

    /** A random tensor in a layout that may be written in place. */
    static TT randomWritable(Rng r, DType t, long[] shape, Domain d) {
        return random(r, t, shape, r.pick(Layout.WRITABLE), d);
    }

    /** A random contiguous float32 vector of a length that is usually not a multiple of the vector width. */
    static TT randomVector(Rng r, DType t, int length, Domain d) {
        return random(r, t, new long[] {length}, Layout.CONTIGUOUS, d);
    }

    // ------------------------------------------------------------------ comparison

    static double rtol(DType t) {
        return switch (t) {
            case FLOAT64 -> 1e-12;
            case FLOAT32 -> 1e-5;
            case FLOAT16, BFLOAT16 -> 1e-2;
            default -> 0;
        };
    }

    static double atol(DType t) {
        return switch (t) {
            case FLOAT64 -> 1e-12;
            case FLOAT32 -> 1e-6;
            case FLOAT16, BFLOAT16 -> 1e-3;
            default -> 0;
        };
    }

    /** Whether {@code actual} passes for {@code expected} at dtype {@code t}'s tolerance; NaN only matches NaN. */
    static boolean close(DType t, double expected, double actual) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) return Double.isNaN(expected) && Double.isNaN(actual);
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) return expected == actual;
        return Math.abs(actual - expected) <= atol(t) + rtol(t) * Math.abs(expected);
    }

    /**
     * Checks dtype, shape and every value of {@code actual} against {@code expected} (row-major):
     * floating types at the dtype's tolerance, integers and bool exactly.
     */
    static void assertTensor(String ctx, DType type, long[] shape, double[] expected, Tensor actual) {
        assertEquals(type, actual.dtype(), ctx + ": dtype");
        assertArrayEquals(shape, actual.shape(), ctx + ": shape");
        assertEquals(expected.length, actual.numel(), ctx + ": numel");
        int bad = 0, first = -1;
        double firstGot = 0;
        if (isFloat(type)) {
            double[] got = actual.toDoubleArray();
            for (int i = 0; i < got.length; i++) {
                if (!close(type, expected[i], got[i])) {
                    if (bad++ == 0) { first = i; firstGot = got[i]; }
                }
            }
        } else if (type == DType.BOOL) {
            boolean[] got = actual.toBooleanArray();
            for (int i = 0; i < got.length; i++) {
                if (got[i] != (expected[i] != 0)) {
                    if (bad++ == 0) { first = i; firstGot = got[i] ? 1 : 0; }
                }
            }
        } else {
            long[] got = actual.toLongArray();
            for (int i = 0; i < got.length; i++) {
                if (got[i] != (long) expected[i] || expected[i] != Math.rint(expected[i])) {
                    if (bad++ == 0) { first = i; firstGot = got[i]; }
                }
            }
        }
        if (bad > 0) {
            fail(ctx + ": " + bad + " of " + expected.length + " elements differ; first at " + Arrays.toString(unravel(first, shape))
                    + ": expected " + expected[first] + " but got " + firstGot + " (rtol " + rtol(type) + ", atol " + atol(type) + ")");
        }
    }

    /** Checks the whole storage behind {@code tt}: the view's positions hold {@code expected}, all others are untouched. */
    static void assertBaseAfterWrite(String ctx, TT tt, double[] expected) {
        double[] want = tt.baseValues().clone();
        for (int i = 0; i < expected.length; i++) want[Math.toIntExact(tt.geom().position(i))] = expected[i];
        long[] bs = tt.base().shape();
        assertTensor(ctx + " (whole base storage)", tt.dtype(), bs, want, tt.base());
    }

    static String fmt(long[] s) { return Arrays.toString(s); }
}

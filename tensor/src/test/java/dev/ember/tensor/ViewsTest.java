package dev.ember.tensor;

import static dev.ember.tensor.TestTensors.ALL;
import static dev.ember.tensor.TestTensors.assertGeometry;
import static dev.ember.tensor.TestTensors.assertTensor;
import static dev.ember.tensor.TestTensors.randomShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Geom;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Views against geometry computed here: random chains of view ops on random tensors, each step's
 * shape, strides, offset and values checked, storage shared with the base, and writes through
 * the view landing in the base's storage. view/reshape are checked against a brute-force search
 * for strides that express the new shape.
 */
@ExtendWith(TestTensors.Scoped.class)
class ViewsTest {

    /** The tensor being viewed and its expected geometry over the base's storage. */
    private static final class Chain {
        Tensor t;
        Geom g;
        final List<String> steps = new ArrayList<>();
        /** false once a step copied (reshape of an incompatible layout). */
        boolean sharing = true;

        Chain(Tensor t, Geom g) { this.t = t; this.g = g; }

        void step(String what, Tensor next, Geom expected) {
            steps.add(what);
            t = next;
            g = expected;
        }
    }

    @Test
    void randomChainsOfViewOps() {
        Rng r = Rng.fresh();
        for (int trial = 0; trial < 400; trial++) {
            DType dtype = r.pick(ALL);
            TT x = TestTensors.random(r, dtype, randomShape(r, 4, 5), Domain.plain(-9, 9));
            Chain c = new Chain(x.t(), x.geom());
            int n = r.nextInt(1, 6);
            for (int k = 0; k < n; k++) {
                randomStep(r, c, x.baseValues());
                if (!c.sharing) break; // a copy was made and checked; the geometry no longer refers to the base
                String ctx = x + " then " + c.steps + ", " + r;
                assertTrue(c.t.sharesStorageWith(x.base()), ctx + ": a view shares storage");
                assertGeometry(ctx, c.g, c.t);
                assertTensor(ctx, dtype, c.g.shape(), c.g.gather(x.baseValues()), c.t);
            }
            if (c.sharing && !c.g.hasInternalOverlap() && c.g.numel() > 0) {
                // writes through the view land in the base's storage, at exactly the view's positions
                double v = TestTensors.exact(dtype, r.nextInt(10, 20));
                c.t.fill_(v);
                double[] want = x.baseValues().clone();
                for (long i = 0; i < c.g.numel(); i++) want[(int) c.g.position(i)] = v;
                assertTensor(x + " then " + c.steps + ".fill_(" + v + "): base, " + r, dtype, x.base().shape(), want, x.base());
            }
        }
    }

    private static void randomStep(Rng r, Chain c, double[] baseValues) {
        long[] shape = c.g.shape();
        int rank = shape.length;
        switch (r.nextInt(0, 13)) {
            case 0 -> { // permute
                int[] p = r.permutation(rank);
                c.step("permute" + Arrays.toString(p), c.t.permute(p), c.g.permute(p));
            }
            case 1 -> { // transpose, with negative dims now and then
                if (rank == 0) { c.step("transpose(0,-1)", c.t.transpose(0, -1), c.g); return; }
                int a = r.nextInt(0, rank - 1), b = r.nextInt(0, rank - 1);
                c.step("transpose(" + (a - rank) + "," + b + ")", c.t.transpose(a - rank, b), c.g.transpose(a, b));
            }
            case 2 -> { // t
                if (rank > 2) return;
                c.step("t()", c.t.t(), rank == 2 ? c.g.transpose(0, 1) : c.g);
            }
            case 3 -> { // slice with Python clamping
                if (rank == 0) return;
                int d = r.nextInt(0, rank - 1);
                long size = shape[d];
                long start = r.nextLong(-size - 3, size + 3), end = r.nextLong(-size - 3, size + 3), step = r.nextInt(1, 3);
                long s0 = pyIndex(start, size), e0 = pyIndex(end, size);
                long count = e0 > s0 ? (e0 - s0 + step - 1) / step : 0;
                c.step("slice(" + d + "," + start + "," + end + "," + step + ")", c.t.slice(d, start, end, step),
                        c.g.slice(d, s0, count, step));
            }
            case 4 -> { // narrow, negative start now and then
                if (rank == 0) return;
                int d = r.nextInt(0, rank - 1);
                long size = shape[d];
                long start = r.nextLong(0, size), length = r.nextLong(0, size - start);
                long given = start < size && r.nextBoolean() ? start - size : start;
                c.step("narrow(" + d + "," + given + "," + length + ")", c.t.narrow(d, given, length), c.g.slice(d, start, length, 1));
            }
            case 5 -> { // select
                if (rank == 0) return;
                int d = r.nextInt(0, rank - 1);
                if (shape[d] == 0) return;
                long i = r.nextLong(0, shape[d] - 1);
                long given = r.nextBoolean() ? i - shape[d] : i;
                c.step("select(" + d + "," + given + ")", c.t.select(d, given), c.g.select(d, i));
            }
            case 6 -> { // unsqueeze
                int d = r.nextInt(0, rank);
                c.step("unsqueeze(" + d + ")", c.t.unsqueeze(d), unsqueeze(c.g, d));
            }
            case 7 -> { // squeeze
                if (r.nextBoolean() || rank == 0) {
                    c.step("squeeze()", c.t.squeeze(), squeeze(c.g, -1));
                } else {
                    int d = r.nextInt(0, rank - 1);
                    c.step("squeeze(" + d + ")", c.t.squeeze(d), shape[d] == 1 ? squeeze(c.g, d) : c.g);
                }
            }
            case 8 -> { // expand size-1 dims and add a leading dim
                long[] target = new long[rank + (r.nextBoolean() ? 1 : 0)];
                int shift = target.length - rank;
                if (shift == 1) target[0] = r.nextInt(0, 3);
                for (int i = 0; i < rank; i++) target[i + shift] = shape[i] == 1 ? r.nextInt(1, 4) : shape[i];
                long[] given = target.clone();
                for (int i = shift; i < given.length; i++) if (target[i] == shape[i - shift] && r.chance(0.3)) given[i] = -1;
                c.step("expand" + Arrays.toString(given), c.t.expand(given), c.g.expand(target));
            }
            case 9, 10 -> { // view or reshape into a random factorisation
                long[] target = refactor(r, shape);
                long[] given = target.clone();
                if (given.length > 0 && r.nextBoolean() && TestTensors.numel(target) > 0) given[r.nextInt(0, given.length - 1)] = -1;
                long[] strides = viewStrides(c.g, target);
                Geom expected = strides == null ? null : new Geom(target, strides, c.g.numel() == 0 ? 0 : c.g.position(0));
                if (r.nextBoolean()) {
                    if (expected == null) {
                        var e = assertThrows(IllegalArgumentException.class, () -> c.t.view(given), "view" + Arrays.toString(given)
                                + " of " + c.g + " after " + c.steps);
                        assertTrue(e.getMessage().startsWith("view size is not compatible with input tensor's size and stride"), e.getMessage());
                        return;
                    }
                    c.step("view" + Arrays.toString(given), c.t.view(given), expected);
                } else {
                    Tensor out = c.t.reshape(given);
                    if (expected == null) {
                        assertTrue(out.isContiguous(), "reshape that copies gives a contiguous tensor");
                        c.steps.add("reshape" + Arrays.toString(given) + " (copy)");
                        assertFalse(out.sharesStorageWith(c.t), "reshape copies when no view can express it: " + c.steps);
                        assertTensor("reshape copy after " + c.steps, c.t.dtype(), target, c.g.gather(baseValues), out);
                        c.t = out;
                        c.sharing = false;
                        return;
                    }
                    c.step("reshape" + Arrays.toString(given), out, expected);
                }
            }
            case 11 -> { // flatten a range of dims
                if (rank == 0) {
                    Tensor f = c.t.flatten();
                    assertArrayEquals(new long[] {1}, f.shape(), "flatten of a 0-d tensor is 1-D");
                    c.step("flatten()", f, new Geom(new long[] {1}, new long[] {1}, c.g.offset()));
                    return;
                }
                int s = r.nextInt(0, rank - 1), e = r.nextInt(s, rank - 1);
                long[] target = new long[rank - (e - s)];
                long merged = 1;
                for (int i = s; i <= e; i++) merged *= shape[i];
                for (int i = 0, j = 0; i < rank; i++) {
                    if (i < s || i > e) target[j++] = shape[i];
                    else if (i == s) target[j++] = merged;
                }
                long[] strides = viewStrides(c.g, target);
                Tensor f = c.t.flatten(s, e - rank);
                if (strides == null) {
                    assertTrue(f.isContiguous() && !f.sharesStorageWith(c.t), "flatten copies when no view can express it");
                    assertTensor("flatten copy after " + c.steps, c.t.dtype(), target, c.g.gather(baseValues), f);
                    c.sharing = false;
                    c.steps.add("flatten(" + s + "," + e + ") (copy)");
                    c.t = f;
                    return;
                }
                c.step("flatten(" + s + "," + (e - rank) + ")", f, new Geom(target, strides, c.g.numel() == 0 ? 0 : c.g.position(0)));
            }
            case 12, 13 -> { // unflatten one dim into factors
                if (rank == 0) return;
                int d = r.nextInt(0, rank - 1);
                long[] sizes = refactor(r, new long[] {shape[d]});
                if (sizes.length == 0) sizes = new long[] {1};
                long[] target = new long[rank - 1 + sizes.length];
                System.arraycopy(shape, 0, target, 0, d);
                System.arraycopy(sizes, 0, target, d, sizes.length);
                System.arraycopy(shape, d + 1, target, d + sizes.length, rank - d - 1);
                long[] st = new long[target.length];
                System.arraycopy(c.g.strides(), 0, st, 0, d);
                long inner = c.g.strides()[d];
                for (int i = sizes.length - 1; i >= 0; i--) {
                    st[d + i] = inner;
                    inner *= sizes[i];
                }
                System.arraycopy(c.g.strides(), d + 1, st, d + sizes.length, rank - d - 1);
                long[] given = sizes.clone();
                if (shape[d] > 0 && r.nextBoolean()) given[r.nextInt(0, given.length - 1)] = -1;
                c.step("unflatten(" + d + "," + Arrays.toString(given) + ")", c.t.unflatten(d, given), new Geom(target, st, c.g.offset()));
            }
            default -> throw new AssertionError();
        }
    }

    /** Python's clamping of a slice bound for a positive step. */
    private static long pyIndex(long i, long size) {
        if (i < 0) i += size;
        return Math.max(0, Math.min(i, size));
    }

    private static Geom unsqueeze(Geom g, int d) {
        long[] s = new long[g.shape().length + 1], st = new long[s.length];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) { s[i] = 1; st[i] = 1; }
            else { s[i] = g.shape()[j]; st[i] = g.strides()[j++]; }
        }
        return new Geom(s, st, g.offset());
    }

    /** Removes dim d, or every size-1 dim when d is -1. */
    private static Geom squeeze(Geom g, int d) {
        List<Long> s = new ArrayList<>(), st = new ArrayList<>();
        for (int i = 0; i < g.shape().length; i++) {
            if (d == -1 ? g.shape()[i] == 1 : i == d) continue;
            s.add(g.shape()[i]);
            st.add(g.strides()[i]);
        }
        return new Geom(s.stream().mapToLong(Long::longValue).toArray(), st.stream().mapToLong(Long::longValue).toArray(), g.offset());
    }

    /** A random shape with the same number of elements, from the prime factors of the sizes (zeros kept). */
    static long[] refactor(Rng r, long[] shape) {
        long n = TestTensors.numel(shape);
        List<Long> factors = new ArrayList<>();
        if (n == 0) {
            factors.add(0L);
            if (r.nextBoolean()) factors.add((long) r.nextInt(1, 3));
        } else {
            long m = n;
            for (long p = 2; p * p <= m; p++) while (m % p == 0) { factors.add(p); m /= p; }
            if (m > 1) factors.add(m);
        }
        java.util.Collections.shuffle(factors, new java.util.Random(r.nextInt(0, 1 << 30)));
        List<Long> dims = new ArrayList<>();
        for (long f : factors) {
            if (!dims.isEmpty() && r.chance(0.4)) dims.set(dims.size() - 1, dims.get(dims.size() - 1) * f);
            else dims.add(f);
        }
        // sprinkle size-1 dims
        for (int k = r.nextInt(0, 2); k > 0; k--) dims.add(r.nextInt(0, dims.size()), 1L);
        if (n == 1 && r.nextBoolean()) dims.clear(); // 0-d
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Brute force: the strides that give every element of {@code g} (in row-major order) the same
     * storage position under {@code target}, or null if there are none. Size-1 dims get stride 1.
     */
    static long[] viewStrides(Geom g, long[] target) {
        long n = g.numel();
        long[] st = new long[target.length];
        Arrays.fill(st, 1);
        if (n == 0) return Geom.contiguous(target).strides();
        long p0 = g.position(0);
        long unit = 1;
        for (int d = target.length - 1; d >= 0; d--) {
            if (target[d] > 1) st[d] = g.position(unit) - p0;
            unit *= target[d];
        }
        Geom v = new Geom(target, st, p0);
        for (long i = 0; i < n; i++) if (v.position(i) != g.position(i)) return null;
        return st;
    }

    // ------------------------------------------------------------------ specific cases

    @Test
    void viewAfterTransposeFailsAndReshapeCopies() {
        Tensor a = Tensor.arange(6).to(DType.FLOAT32).view(2, 3);
        Tensor t = a.t();
        var e = assertThrows(IllegalArgumentException.class, () -> t.view(6));
        assertEquals("view size is not compatible with input tensor's size and stride (at least one dimension spans across two"
                + " contiguous subspaces). Use .reshape(...) instead.", e.getMessage());
        Tensor r = t.reshape(6);
        assertFalse(r.sharesStorageWith(a));
        assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, r.toDoubleArray());
        Tensor v = a.reshape(3, -1);
        assertTrue(v.sharesStorageWith(a));
        assertArrayEquals(new long[] {3, 2}, v.shape());
        assertArrayEquals(new long[] {2, 1}, v.strides());
        // a transposed tensor can still be viewed where the strides allow: [3, 2] -> [3, 2, 1]
        assertTrue(t.view(3, 2, 1).sharesStorageWith(a));
        assertArrayEquals(new long[] {1, 3}, t.unsqueeze(0).view(3, 2).strides());
    }

    @Test
    void writesThroughViewsAreVisibleInTheBase() {
        Tensor base = Tensor.zeros(4, 6);
        base.t().select(0, 2).fill_(1);                  // column 2
        base.slice(1, 3, 6, 2).select(0, -1).fill_(2);   // row 3, columns 3 and 5
        base.view(24).narrow(0, 0, 2).fill_(3);          // first two elements
        base.unsqueeze(0).expand(5, 4, 6).select(0, 4).select(0, 1).set(4, 5);
        double[] want = new double[24];
        for (int i = 0; i < 4; i++) want[i * 6 + 2] = 1;
        want[3 * 6 + 3] = 2;
        want[3 * 6 + 5] = 2;
        want[0] = 3;
        want[1] = 3;
        want[6 + 5] = 4;
        assertArrayEquals(want, base.toDoubleArray());
    }

    @Test
    void pythonSliceClamping() {
        Tensor a = Tensor.arange(10);
        assertArrayEquals(new long[] {0, 3, 6, 9}, a.slice(0, -100, 100, 3).toLongArray());
        assertArrayEquals(new long[0], a.slice(0, 7, 2).toLongArray());
        assertArrayEquals(new long[] {7, 8}, a.slice(0, -3, -1).toLongArray());
        assertArrayEquals(new long[0], a.slice(0, 12, 20).toLongArray());
        assertArrayEquals(new long[] {0, 1}, a.slice(0, -20, 2).toLongArray());
        assertArrayEquals(new long[] {2, 0}, Tensor.zeros(2, 3).slice(1, 5, 10).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> a.slice(0, 0, 5, 0));
        assertTrue(e.getMessage().contains("step must be positive"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.slice(0, 0, 5, -1));
    }

    @Test
    void squeezeUnsqueezeFlattenUnflatten() {
        Tensor x = Tensor.zeros(2, 1, 3, 1);
        assertArrayEquals(new long[] {2, 3}, x.squeeze().shape());
        assertArrayEquals(new long[] {2, 3, 1}, x.squeeze(1).shape());
        assertArrayEquals(new long[] {2, 1, 3, 1}, x.squeeze(0).shape(), "squeezing a non-1 dim is a no-op");
        assertArrayEquals(new long[] {2, 1, 3}, x.squeeze(-1).shape());
        assertArrayEquals(new long[] {2, 1, 3, 1, 1}, x.unsqueeze(-1).shape());
        assertArrayEquals(new long[] {1, 2, 1, 3, 1}, x.unsqueeze(0).shape());
        assertArrayEquals(new long[] {1, 6, 3}, Tensor.zeros(2, 3).t().unsqueeze(1).strides(), "PyTorch's stride for the new dim");
        assertArrayEquals(new long[] {3, 1, 1}, Tensor.zeros(2, 3).unsqueeze(-1).strides());
        assertArrayEquals(new long[] {6}, Tensor.zeros(2, 3).flatten().shape());
        assertArrayEquals(new long[] {2, 3}, Tensor.zeros(2, 3).flatten(1, 1).shape());
        assertArrayEquals(new long[] {1}, Tensor.scalar(3).flatten().shape());
        assertArrayEquals(new long[] {2, 2, 3}, Tensor.zeros(2, 6).unflatten(1, 2, 3).shape());
        assertArrayEquals(new long[] {2, 3, 2}, Tensor.zeros(2, 6).unflatten(-1, -1, 2).shape());
        assertArrayEquals(new long[0], Tensor.zeros(1, 1).squeeze().shape());
        assertArrayEquals(new long[0], Tensor.scalar(1).squeeze().shape());
        assertArrayEquals(new long[0], Tensor.scalar(1).squeeze(0).shape());
        assertArrayEquals(new long[] {1}, Tensor.scalar(1).unsqueeze(0).shape());
    }

    @Test
    void expandAndBroadcastTo() {
        Tensor v = Tensor.fromArray(new float[] {1, 2, 3});
        Tensor e = v.expand(2, 3);
        assertArrayEquals(new long[] {0, 1}, e.strides());
        assertTrue(e.sharesStorageWith(v));
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3}, e.toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3}, v.broadcastTo(2, 3).toDoubleArray());
        assertArrayEquals(new long[] {4, 3}, v.unsqueeze(0).expand(4, -1).shape());
        assertArrayEquals(new long[] {0, 3}, v.expand(0, 3).shape());
        assertArrayEquals(new long[] {2, 3}, v.expandAs(Tensor.zeros(2, 3)).shape());
        Tensor col = Tensor.fromArray(new float[] {1, 2}, 2, 1);
        assertArrayEquals(new double[] {1, 1, 1, 2, 2, 2}, col.expand(2, 3).toDoubleArray());
        assertArrayEquals(new double[] {1, 1, 1, 2, 2, 2}, col.expand(2, 3).contiguous().toDoubleArray());
    }

    @Test
    void permuteTransposeAndT() {
        Tensor x = Tensor.zeros(2, 3, 4);
        assertArrayEquals(new long[] {4, 2, 3}, x.permute(2, 0, 1).shape());
        assertArrayEquals(new long[] {1, 12, 4}, x.permute(-1, 0, 1).strides());
        assertArrayEquals(new long[] {4, 3, 2}, x.transpose(0, -1).shape());
        assertArrayEquals(new long[] {3}, Tensor.zeros(3).t().shape(), "t() of a vector is itself");
        assertArrayEquals(new long[0], Tensor.scalar(1).t().shape());
        assertArrayEquals(new long[] {3, 2}, Tensor.zeros(2, 3).t().shape());
        assertTrue(x.permute(2, 0, 1).sharesStorageWith(x));
    }

    @Test
    void viewStridesAgreeWithPyTorchOnKnownCases() {
        // torch: x = torch.zeros(2, 3, 4).permute(1, 0, 2); x.view(3, 8) fails, x.view(3, 2, 2, 2).stride() == (4, 12, 2, 1)
        Tensor p = Tensor.zeros(2, 3, 4).permute(1, 0, 2);
        assertThrows(IllegalArgumentException.class, () -> p.view(3, 8));
        assertArrayEquals(new long[] {4, 12, 2, 1}, p.view(3, 2, 2, 2).strides());
        // torch.zeros(4, 6)[:, ::2].view(2, 2, 3).stride() == (12, 6, 2)
        assertArrayEquals(new long[] {12, 6, 2}, Tensor.zeros(4, 6).slice(1, 0, 6, 2).view(2, 2, 3).strides());
    }
}

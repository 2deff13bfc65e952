package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * mm, bmm, matmul and addmm on CUDA tensors (cuBLAS) compared with the CPU backend on the same
 * inputs, in random shapes (zero-size included) and layouts: contiguous, transposed views (read
 * by cuBLAS with OP_T), rows of a wider matrix, stepped views and expanded operands (packed
 * first), permuted and broadcast batch dims. Every dtype cuBLAS multiplies; float32 with TF32
 * off and on. An element passes when it is within the dtype's tolerance of the CPU's value,
 * relative to Σ|a||b| (the size of the terms summed, which bounds any summation-order error).
 * Also device and dtype errors, large batches, side streams and threads. Skipped without CUDA.
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaLinAlgGpuTest {
    private static final int TRIALS = 8;
    private static final DType[] FLOATS = TestTensors.FLOATS;

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    @AfterEach
    void tf32BackOff() {
        Ember.setAllowTf32Matmul(false);
    }

    // ------------------------------------------------------------------ operands

    /** One operand on both devices: the same values viewed the same way. */
    private record Pair(Tensor cpu, Tensor cuda, String how) {
        @Override
        public String toString() { return Arrays.toString(cpu.shape()) + " " + how; }
    }

    /** Random values of {@code t}, exactly representable, in [-2, 2]. */
    private static Tensor values(Rng r, DType t, long... shape) {
        return TestTensors.random(r, t, shape, Layout.CONTIGUOUS, Domain.plain(-2, 2)).t();
    }

    /** An operand of logical {@code shape} in a random layout, made by the same view ops on a host and a device base. */
    private static Pair operand(Rng r, DType t, long... shape) {
        int rank = shape.length;
        // 0 contiguous, 1 sliced, 2 transposed (2-D and up), 3 expanded, 4 batch permuted (3-D and up)
        int[] kinds = rank == 1 ? new int[] {0, 1, 3} : rank == 2 ? new int[] {0, 1, 2, 3} : new int[] {0, 1, 2, 3, 4};
        switch (kinds[r.nextInt(0, kinds.length - 1)]) {
            case 1 -> { // rows of a wider base; every other element when the step is 2
                long step = r.nextInt(1, 2);
                long[] base = shape.clone();
                base[rank - 1] = shape[rank - 1] * step + 1;
                Tensor h = values(r, t, base);
                return pair(h, x -> x.slice(-1, 1, 1 + shape[rank - 1] * step, step),
                        step == 1 ? "rows of a wider matrix" : "stepped");
            }
            case 2 -> { // a transposed view: cuBLAS reads it with OP_T
                long[] base = shape.clone();
                base[rank - 2] = shape[rank - 1];
                base[rank - 1] = shape[rank - 2];
                return pair(values(r, t, base), x -> x.transpose(-1, -2), "transposed");
            }
            case 3 -> { // a size-1 dim expanded (a broadcast row, column or batch)
                long[] base = shape.clone();
                int d = r.nextInt(0, rank - 1);
                base[d] = 1;
                return pair(values(r, t, base), x -> x.expand(shape), "expanded dim " + d);
            }
            case 4 -> { // batch dims in permuted memory order
                int[] perm = new int[rank];
                int[] batchOrder = r.permutation(rank - 2);
                for (int i = 0; i < rank - 2; i++) perm[i] = batchOrder[i];
                perm[rank - 2] = rank - 2;
                perm[rank - 1] = rank - 1;
                long[] base = new long[rank];
                int[] inverse = new int[rank];
                for (int i = 0; i < rank; i++) inverse[perm[i]] = i;
                for (int i = 0; i < rank; i++) base[i] = shape[inverse[i]];
                return pair(values(r, t, base), x -> x.permute(inverse), "batch permuted " + Arrays.toString(inverse));
            }
            default -> {
                return pair(values(r, t, shape), x -> x, "contiguous");
            }
        }
    }

    private static Pair pair(Tensor host, java.util.function.UnaryOperator<Tensor> view, String how) {
        return new Pair(view.apply(host), view.apply(host.cuda()), how);
    }

    private static long dim(Rng r) {
        if (r.chance(0.06)) return 0;
        return r.chance(0.2) ? r.nextInt(1, 70) : r.nextInt(1, 9);
    }

    // ------------------------------------------------------------------ comparison

    private static double tolerance(DType t) {
        return switch (t) {
            case FLOAT16, BFLOAT16 -> 1e-2;
            case FLOAT32 -> Ember.allowTf32Matmul() ? 1e-3 : 1e-5;
            case FLOAT64 -> 1e-12;
            default -> 0;
        };
    }

    /**
     * actual (on CUDA) against expected (the CPU's), each element within tol · scale, where
     * scale is the same product of the operands' absolute values in float64; NaN only where NaN.
     */
    private static void assertClose(String ctx, Tensor expected, Tensor actual, Tensor scale) {
        assertEquals(expected.dtype(), actual.dtype(), ctx);
        assertArrayEquals(expected.shape(), actual.shape(), ctx);
        assertTrue(actual.isCuda(), ctx + ": the result is not on the device");
        double tol = tolerance(expected.dtype());
        double[] e = expected.toDoubleArray(), a = actual.cpu().toDoubleArray(), s = scale.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            if (Double.isNaN(e[i]) != Double.isNaN(a[i])) fail(ctx + ": element " + i + " is " + a[i] + ", expected " + e[i]);
            if (Double.isNaN(e[i]) || e[i] == a[i]) continue;
            if (!(Math.abs(e[i] - a[i]) <= tol * s[i])) {
                fail(ctx + ": element " + i + " is " + a[i] + ", expected " + e[i] + " (tolerance " + tol + " x " + s[i] + ")");
            }
        }
    }

    private static Tensor abs64(Tensor t) { return t.to(DType.FLOAT64).abs(); }

    /** op on both devices compared, the scale being op of the absolute values in float64 on the host. */
    private static void check(String ctx, BinaryOperator<Tensor> op, Pair a, Pair b) {
        Tensor expected = op.apply(a.cpu(), b.cpu());
        Tensor actual = op.apply(a.cuda(), b.cuda());
        assertClose(ctx, expected, actual, op.apply(abs64(a.cpu()), abs64(b.cpu())));
    }

    // ------------------------------------------------------------------ products

    @Test
    void mmMatchesTheCpuInEveryLayoutAndDtype() {
        Rng r = Rng.fresh();
        for (DType t : FLOATS) {
            for (int trial = 0; trial < TRIALS * 2; trial++) {
                long m = dim(r), k = dim(r), n = dim(r);
                Pair a = operand(r, t, m, k), b = operand(r, t, k, n);
                check("mm " + t + " " + a + " @ " + b + " " + r, Tensor::mm, a, b);
            }
        }
    }

    @Test
    void bmmMatchesTheCpu() {
        Rng r = Rng.fresh();
        for (DType t : FLOATS) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long batch = r.chance(0.05) ? 0 : r.nextInt(1, 5), m = dim(r), k = dim(r), n = dim(r);
                Pair a = operand(r, t, batch, m, k), b = operand(r, t, batch, k, n);
                check("bmm " + t + " " + a + " @ " + b + " " + r, Tensor::bmm, a, b);
            }
        }
    }

    @Test
    void matmulInEveryRankCombinationWithBroadcastBatches() {
        Rng r = Rng.fresh();
        int[][] ranks = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {1, 3}, {3, 1}, {3, 2}, {2, 3}, {3, 3}, {4, 3}, {2, 4}, {4, 4}};
        for (DType t : FLOATS) {
            for (int[] rk : ranks) {
                for (int trial = 0; trial < 3; trial++) {
                    long m = dim(r), k = dim(r), n = dim(r);
                    long[] batch = new long[Math.max(0, Math.max(rk[0], rk[1]) - 2)];
                    for (int i = 0; i < batch.length; i++) batch[i] = r.nextInt(1, 3);
                    Pair a = operand(r, t, matmulShape(r, rk[0], batch, m, k, true));
                    Pair b = operand(r, t, matmulShape(r, rk[1], batch, k, n, false));
                    check("matmul " + t + " " + a + " @ " + b + " " + r, Tensor::matmul, a, b);
                }
            }
        }
    }

    /** A matmul operand of {@code rank}: a vector, a matrix, or a matrix with (some of) the batch dims, some set to 1. */
    private static long[] matmulShape(Rng r, int rank, long[] batch, long rows, long cols, boolean left) {
        if (rank == 1) return new long[] {left ? cols : rows};
        long[] s = new long[rank];
        int lead = rank - 2;
        for (int i = 0; i < lead; i++) {
            long full = batch[batch.length - lead + i];
            s[i] = r.chance(0.3) ? 1 : full;
        }
        s[rank - 2] = rows;
        s[rank - 1] = cols;
        return s;
    }

    @Test
    void aBatchTimesOneMatrixAndTheLinearLayout() {
        Rng r = Rng.fresh();
        for (DType t : FLOATS) {
            // [b, m, k] @ [k, n]: the batch folds into one tall product
            Pair x = pair(values(r, t, 3, 5, 8), v -> v, "contiguous");
            Pair w = pair(values(r, t, 8, 6), v -> v, "contiguous");
            check("batch @ matrix " + t + " " + r, Tensor::matmul, x, w);
            // Linear: bias.addmm(input, weight.t()), the weight read transposed in place
            Tensor in = values(r, t, 7, 8), weight = values(r, t, 6, 8), bias = values(r, t, 6);
            Tensor expected = bias.addmm(in, weight.t());
            Tensor actual = bias.cuda().addmm(in.cuda(), weight.cuda().t());
            Tensor scale = abs64(bias).addmm(abs64(in), abs64(weight).t());
            assertClose("linear " + t + " " + r, expected, actual, scale);
        }
    }

    @Test
    void addmmWithBroadcastSelfAlphaAndBeta() {
        Rng r = Rng.fresh();
        double[][] betaAlpha = {{1, 1}, {0.5, 2}, {0, 1}, {0, -1.5}, {-1, 0.25}};
        for (DType t : FLOATS) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long m = dim(r), k = dim(r), n = dim(r);
                long[][] selfShapes = {{m, n}, {n}, {1, n}, {m, 1}, {}};
                long[] selfShape = selfShapes[r.nextInt(0, selfShapes.length - 1)];
                double[] ba = betaAlpha[r.nextInt(0, betaAlpha.length - 1)];
                double beta = ba[0], alpha = ba[1];
                Tensor self = values(r, t, selfShape);
                if (beta == 0 && self.numel() > 0) self.fill_(Double.NaN); // beta 0: self is not read, NaN included
                Pair a = operand(r, t, m, k), b = operand(r, t, k, n);
                String ctx = "addmm " + t + " self " + Arrays.toString(selfShape) + " beta " + beta + " alpha " + alpha
                        + " " + a + " @ " + b + " " + r;
                Tensor expected = self.addmm(a.cpu(), b.cpu(), beta, alpha);
                Tensor actual = self.cuda().addmm(a.cuda(), b.cuda(), beta, alpha);
                Tensor scale = (beta == 0 ? Tensor.zeros(DType.FLOAT64, selfShape) : abs64(self))
                        .addmm(abs64(a.cpu()), abs64(b.cpu()), Math.abs(beta), Math.abs(alpha));
                assertClose(ctx, expected, actual, scale);
            }
        }
    }

    @Test
    void batchesLargerThanOneCallTakeAreSplit() {
        Rng r = Rng.fresh();
        Pair a = pair(values(r, DType.FLOAT32, 70_000, 2, 3), x -> x, "contiguous");
        Pair b = pair(values(r, DType.FLOAT32, 70_000, 2, 3), x -> x.transpose(-1, -2), "transposed");
        check("bmm of 70000 " + r, Tensor::bmm, a, b);
    }

    // ------------------------------------------------------------------ precision modes

    @Test
    void tf32IsOffByDefaultAndFloat32KeepsFullPrecision() {
        assertFalse(Ember.allowTf32Matmul());
        Rng r = Rng.fresh();
        Tensor a = values(r, DType.FLOAT32, 512, 512), b = values(r, DType.FLOAT32, 512, 512);
        double worst = worstRelativeError(a, b);
        assertTrue(worst < 1e-5, "float32 mm with TF32 off is " + worst + " from float64 (relative to sum |a||b|) " + r);
    }

    @Test
    void tf32WhenAllowedIsWithinItsToleranceAndTakesEffect() {
        Rng r = Rng.fresh();
        Ember.setAllowTf32Matmul(true);
        assertTrue(Ember.allowTf32Matmul());
        for (int trial = 0; trial < TRIALS; trial++) {
            long m = r.nextInt(1, 80), k = r.nextInt(32, 200), n = r.nextInt(1, 80);
            Pair a = operand(r, DType.FLOAT32, m, k), b = operand(r, DType.FLOAT32, k, n);
            check("tf32 mm " + a + " @ " + b + " " + r, Tensor::mm, a, b);
        }
        Tensor a = values(r, DType.FLOAT32, 512, 512), b = values(r, DType.FLOAT32, 512, 512);
        double worst = worstRelativeError(a, b);
        assertTrue(worst < 1e-3, "TF32 mm is " + worst + " from float64 " + r);
        if (Device.cuda().computeCapability().atLeast(8, 0)) { // tensor cores with TF32 from Ampere on
            assertTrue(worst > 2e-6, "TF32 was allowed but the product has full float32 precision (" + worst + ") " + r);
        }
    }

    /** The largest |cuda(a·b) − a·b in float64| / (|a||b|) over the elements. */
    private static double worstRelativeError(Tensor a, Tensor b) {
        double[] got = a.cuda().mm(b.cuda()).cpu().toDoubleArray();
        double[] ref = a.to(DType.FLOAT64).mm(b.to(DType.FLOAT64)).toDoubleArray();
        double[] scale = abs64(a).mm(abs64(b)).toDoubleArray();
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / scale[i]);
        return worst;
    }

    // ------------------------------------------------------------------ streams and threads

    @Test
    void aSideStreamGetsTheWorkAndItsOwnWorkspace() {
        Rng r = Rng.fresh();
        Tensor a = values(r, DType.FLOAT32, 64, 48), b = values(r, DType.FLOAT32, 48, 40);
        Tensor expected = a.mm(b);
        // the side stream does not wait for the default one: everything it reads is made on it, and
        // what it made is freed (the scope) before it is closed
        try (Stream side = Stream.create(Device.cuda()); var scope = Ember.scope(); var use = Stream.use(side)) {
            Tensor actual = a.cuda().mm(b.t().contiguous().cuda().t());
            assertClose("mm on a side stream " + r, expected, actual, abs64(a).mm(abs64(b)));
        }
    }

    @Test
    void threadsMultiplyAtTheSameTime() throws Exception {
        Rng r = Rng.fresh();
        Tensor a = values(r, DType.FLOAT32, 33, 65), b = values(r, DType.FLOAT32, 65, 17);
        double[] expected = a.mm(b).toDoubleArray();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<double[]>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                results.add(pool.submit(() -> {
                    try (var s = Ember.scope()) {
                        Tensor ca = a.cuda(), cb = b.cuda();
                        Tensor p = ca.mm(cb);
                        for (int j = 0; j < 5; j++) p = ca.mm(cb);
                        return p.cpu().toDoubleArray();
                    }
                }));
            }
            for (Future<double[]> f : results) {
                double[] got = f.get();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(expected[i], got[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "element " + i + " " + r);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    // ------------------------------------------------------------------ errors

    @Test
    void mixingDevicesFailsWithPyTorchsMessage() {
        String msg = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!";
        Tensor g = Tensor.ones(2, 3).cuda(), h = Tensor.ones(3, 2);
        assertEquals(msg, assertThrows(IllegalArgumentException.class, () -> g.mm(h)).getMessage());
        assertEquals(msg, assertThrows(IllegalArgumentException.class, () -> g.matmul(h)).getMessage());
        assertEquals(msg, assertThrows(IllegalArgumentException.class,
                () -> g.unsqueeze(0).bmm(h.unsqueeze(0))).getMessage());
        assertEquals(msg, assertThrows(IllegalArgumentException.class, () -> Tensor.ones(2).cuda().addmm(g, h)).getMessage());
        assertEquals("Expected all tensors to be on the same device, but found at least two devices, cpu and cuda:0!",
                assertThrows(IllegalArgumentException.class, () -> Tensor.ones(2).addmm(g, g.t())).getMessage());
    }

    @Test
    void integerDtypesAreRefusedAsPyTorchRefusesThem() {
        Tensor l = Tensor.ones(DType.INT64, 2, 2).cuda();
        assertEquals("\"addmm_cuda\" not implemented for 'Long'",
                assertThrows(IllegalArgumentException.class, () -> l.mm(l)).getMessage());
        assertEquals("\"addmm_cuda\" not implemented for 'Long'",
                assertThrows(IllegalArgumentException.class, () -> l.addmm(l, l)).getMessage());
        Tensor i = Tensor.ones(DType.INT32, 2, 2, 2).cuda();
        assertEquals("\"bmm_cuda\" not implemented for 'Int'",
                assertThrows(IllegalArgumentException.class, () -> i.bmm(i)).getMessage());
        Tensor v = Tensor.ones(DType.INT64, 3).cuda();
        assertEquals("\"dot\" not implemented for 'Long'",
                assertThrows(IllegalArgumentException.class, () -> v.matmul(v)).getMessage());
        Tensor bool = Tensor.ones(DType.BOOL, 2, 2).cuda();
        assertEquals("\"addmm_cuda\" not implemented for 'Bool'",
                assertThrows(IllegalArgumentException.class, () -> bool.mm(bool)).getMessage());
    }

    @Test
    void shapeAndDtypeErrorsReadAsOnTheCpu() {
        Tensor a = Tensor.ones(2, 3), b = Tensor.ones(4, 5);
        String cpu = assertThrows(IllegalArgumentException.class, () -> a.mm(b)).getMessage();
        assertEquals(cpu, assertThrows(IllegalArgumentException.class, () -> a.cuda().mm(b.cuda())).getMessage());
        Tensor c = Tensor.ones(DType.FLOAT64, 3, 2);
        String dtype = assertThrows(IllegalArgumentException.class, () -> a.mm(c)).getMessage();
        assertEquals(dtype, assertThrows(IllegalArgumentException.class, () -> a.cuda().mm(c.cuda())).getMessage());
        Tensor x = Tensor.ones(2, 3, 4), y = Tensor.ones(2, 5, 4);
        String batched = assertThrows(IllegalArgumentException.class, () -> x.matmul(y)).getMessage();
        assertEquals(batched, assertThrows(IllegalArgumentException.class, () -> x.cuda().matmul(y.cuda())).getMessage());
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.NativeLibrary;
import dev.ember.memory.Device;
import dev.ember.tensor.ConvKernelsTest.Check;
import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Layout;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * conv2d and its three gradients, max and average pooling and their gradients, and batch norm
 * (training, evaluation, backward) on CUDA through cuDNN, compared with the CPU backend on the
 * same random inputs (the random configurations of {@link ConvKernelsTest}, {@link PoolKernelsTest}
 * and {@link BatchNormKernelsTest}, whose CPU results those classes check against float64
 * loops), in the inputs' own layouts. The tolerance of each value scales with the sum of the
 * magnitudes of its terms, which the CPU computes as the same op on absolute values. float32 runs
 * with TF32 off (FMA math); TF32, float16 and bfloat16 get their own, looser, checks. Also:
 * algorithms are searched once per problem, what cuDNN cannot express fails with a message,
 * zero sizes, mixed devices, and a conv → batch norm → pool stack trained through autograd.
 * Skipped without a CUDA driver and device, or without cuDNN.
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaConvPoolBatchNormGpuTest {
    private static final DType[] TYPES = {DType.FLOAT32, DType.FLOAT64};
    private static final double EPS = 1e-5;

    @BeforeEach
    void needsCudaAndCudnn() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        assumeTrue(NativeLibrary.CUDNN.isAvailable(), NativeLibrary.CUDNN::describe);
        Ember.setAllowTf32Cudnn(false);
    }

    @AfterEach
    void restoreTf32() {
        Ember.setAllowTf32Cudnn(true);
    }

    // ---------------------------------------------------------------- convolution

    @Test
    void convolutionAndItsGradientsMatchTheCpu() {
        for (int trial = 0; trial < 60; trial++) {
            Rng r = Rng.fresh();
            ConvKernelsTest.Conv c = ConvKernelsTest.Conv.random(r, trial % 10 == 0 ? 24 : 9, trial % 10 == 0 ? 20 : 5);
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, c.input()), w = Check.random(r, t, c.weight()), g = Check.random(r, t, c.output());
            TT b = c.bias() ? Check.random(r, t, c.cout()) : null;
            String ctx = c + " " + t + " x " + x + " w " + w + " grad " + g + ", " + r;
            checkConv(ctx, c, x, w, b, g, Check.tolerance(t));
        }
    }

    /** float16 and bfloat16 (tensor-core math) against float32 on the CPU on the same, exactly representable values. */
    @Test
    void halfPrecisionConvolutionMatchesFloat32OnTheSameValues() {
        for (int trial = 0; trial < 24; trial++) {
            Rng r = Rng.fresh();
            ConvKernelsTest.Conv c = ConvKernelsTest.Conv.random(r, 12, 8);
            DType t = trial % 2 == 0 ? DType.FLOAT16 : DType.BFLOAT16;
            TT x = Check.random(r, t, c.input()), w = Check.random(r, t, c.weight()), g = Check.random(r, t, c.output());
            TT b = c.bias() ? Check.random(r, t, c.cout()) : null;
            checkConv(c + " " + t + ", " + r, c, x, w, b, g, 1e-2);
        }
    }

    /** With TF32 allowed (PyTorch's default for cuDNN), float32 stays within TF32's error (about 1e-3 of the terms). */
    @Test
    void tf32ConvolutionStaysWithinTf32Error() {
        Ember.setAllowTf32Cudnn(true);
        Rng r = Rng.fresh();
        ConvKernelsTest.Conv c = new ConvKernelsTest.Conv(4, 32, 20, 20, 48, 3, 3, new int[] {1, 1}, new int[] {1, 1},
                new int[] {1, 1}, 1, true, true);
        TT x = Check.random(r, DType.FLOAT32, c.input()), w = Check.random(r, DType.FLOAT32, c.weight());
        TT g = Check.random(r, DType.FLOAT32, c.output()), b = Check.random(r, DType.FLOAT32, c.cout());
        checkConv(c + " TF32, " + r, c, x, w, b, g, 3e-3);
    }

    /**
     * Forward, input, weight and bias gradients on CUDA (operands in their own layouts) against the
     * CPU on the same values (converted to float32 for the 16-bit types, which the CPU lacks).
     */
    private static void checkConv(String ctx, ConvKernelsTest.Conv c, TT x, TT w, TT b, TT g, double tol) {
        DType t = x.dtype();
        Tensor hx = host(x.t()), hw = host(w.t()), hg = host(g.t()), hb = b == null ? null : host(b.t());
        Tensor dx = CudaElementwiseGpuTest.onCuda(x), dw = CudaElementwiseGpuTest.onCuda(w), dg = CudaElementwiseGpuTest.onCuda(g);
        Tensor db = b == null ? null : CudaElementwiseGpuTest.onCuda(b);
        int[] s = c.stride(), p = c.pad(), d = c.dil();
        int groups = c.groups();
        assertClose(ctx + ": output", t, ConvKernels.conv2d(hx, hw, hb, s, p, d, groups),
                ConvKernels.conv2d(hx.abs(), hw.abs(), hb == null ? null : hb.abs(), s, p, d, groups),
                ConvKernels.conv2d(dx, dw, db, s, p, d, groups), tol);
        assertClose(ctx + ": input gradient", t, ConvKernels.conv2dBackwardInput(hg, hw, c.input(), s, p, d, groups),
                ConvKernels.conv2dBackwardInput(hg.abs(), hw.abs(), c.input(), s, p, d, groups),
                ConvKernels.conv2dBackwardInput(dg, dw, c.input(), s, p, d, groups), tol);
        assertClose(ctx + ": weight gradient", t, ConvKernels.conv2dBackwardWeight(hg, hx, c.weight(), s, p, d, groups),
                ConvKernels.conv2dBackwardWeight(hg.abs(), hx.abs(), c.weight(), s, p, d, groups),
                ConvKernels.conv2dBackwardWeight(dg, dx, c.weight(), s, p, d, groups), tol);
        assertClose(ctx + ": bias gradient", t, ConvKernels.conv2dBackwardBias(hg), ConvKernels.conv2dBackwardBias(hg.abs()),
                ConvKernels.conv2dBackwardBias(dg), tol);
    }

    @Test
    void algorithmsAreSearchedOncePerProblemAndDirection() {
        // sizes no random case of this class reaches, so the first call is a new problem
        long[] in = {3, 7, 29, 31}, wShape = {5, 7, 3, 2};
        int[] s = {2, 1}, p = {1, 0}, d = {1, 2};
        Tensor x = Tensor.randn(in).cuda(), w = Tensor.randn(wShape).cuda();
        long before = CudaConv.searches();
        Tensor y = ConvKernels.conv2d(x, w, null, s, p, d, 1);
        assertEquals(before + 1, CudaConv.searches(), "the first forward searches");
        ConvKernels.conv2d(Tensor.randn(in).cuda(), Tensor.randn(wShape).cuda(), null, s, p, d, 1);
        assertEquals(before + 1, CudaConv.searches(), "the second forward of the same problem takes the cached algorithm");
        Tensor g = Tensor.randn(y.shape()).cuda();
        ConvKernels.conv2dBackwardInput(g, w, in, s, p, d, 1);
        ConvKernels.conv2dBackwardInput(g, w, in, s, p, d, 1);
        assertEquals(before + 2, CudaConv.searches(), "backward data searches once");
        ConvKernels.conv2dBackwardWeight(g, x, wShape, s, p, d, 1);
        ConvKernels.conv2dBackwardWeight(g, x, wShape, s, p, d, 1);
        assertEquals(before + 3, CudaConv.searches(), "backward filter searches once");
        ConvKernels.conv2d(x, w, null, s, p, new int[] {1, 1}, 1);
        assertEquals(before + 4, CudaConv.searches(), "another dilation is another problem");
        Ember.setAllowTf32Cudnn(true);
        ConvKernels.conv2d(x, w, null, s, p, d, 1);
        assertEquals(before + 5, CudaConv.searches(), "another math type is another problem");
    }

    @Test
    void benchmarkModeTimesTheCandidatesOncePerProblemAndComputesTheSame() {
        long[] in = {2, 6, 17, 19}, wShape = {4, 6, 3, 3};
        int[] s = {1, 1}, p = {1, 1}, d = {1, 1};
        Tensor x = Tensor.randn(in).to(DType.FLOAT64), w = Tensor.randn(wShape).to(DType.FLOAT64);
        Tensor heuristic = ConvKernels.conv2d(x.cuda(), w.cuda(), null, s, p, d, 1);
        Ember.setCudnnBenchmark(true);
        try {
            long before = CudaConv.searches();
            Tensor measured = ConvKernels.conv2d(x.cuda(), w.cuda(), null, s, p, d, 1);
            assertEquals(before + 1, CudaConv.searches(), "benchmark mode is another problem: it searches, by timing");
            ConvKernels.conv2d(x.cuda(), w.cuda(), null, s, p, d, 1);
            assertEquals(before + 1, CudaConv.searches(), "and only once");
            Tensor cpu = ConvKernels.conv2d(x, w, null, s, p, d, 1);
            assertCloseGlobally("benchmark-mode forward", cpu, measured, 1e-12);
            assertCloseGlobally("heuristic forward", cpu, heuristic, 1e-12);
            Tensor g = Tensor.randn(cpu.shape()).to(DType.FLOAT64);
            assertCloseGlobally("benchmark-mode data gradient", ConvKernels.conv2dBackwardInput(g, w, in, s, p, d, 1),
                    ConvKernels.conv2dBackwardInput(g.cuda(), w.cuda(), in, s, p, d, 1), 1e-12);
            assertCloseGlobally("benchmark-mode filter gradient", ConvKernels.conv2dBackwardWeight(g, x, wShape, s, p, d, 1),
                    ConvKernels.conv2dBackwardWeight(g.cuda(), x.cuda(), wShape, s, p, d, 1), 1e-12);
        } finally {
            Ember.setCudnnBenchmark(false);
        }
    }

    @Test
    void convolutionZeroSizesOnCuda() {
        int[] one = {1};
        Tensor y = ConvKernels.conv2d(Tensor.zeros(0, 4, 5, 5).cuda(), Tensor.ones(3, 4, 3, 3).cuda(), null, one, one, one, 1);
        assertArrayEquals(new long[] {0, 3, 5, 5}, y.shape());
        assertTrue(y.isCuda());
        // no input channels: the output is the bias alone
        Tensor b = Tensor.fromArray(new float[] {1, 2}).cuda();
        Tensor z = ConvKernels.conv2d(Tensor.zeros(2, 0, 4, 4).cuda(), Tensor.zeros(2, 0, 3, 3).cuda(), b, one, new int[] {0}, one, 1);
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2}, z.cpu().toFloatArray());
        Tensor dw = ConvKernels.conv2dBackwardWeight(Tensor.zeros(0, 3, 5, 5).cuda(), Tensor.zeros(0, 4, 5, 5).cuda(),
                new long[] {3, 4, 3, 3}, one, one, one, 1);
        assertArrayEquals(new float[3 * 4 * 9], dw.cpu().toFloatArray());
        Tensor dx = ConvKernels.conv2dBackwardInput(Tensor.zeros(0, 3, 5, 5).cuda(), Tensor.ones(3, 4, 3, 3).cuda(),
                new long[] {0, 4, 5, 5}, one, one, one, 1);
        assertArrayEquals(new long[] {0, 4, 5, 5}, dx.shape());
        assertArrayEquals(new float[3], ConvKernels.conv2dBackwardBias(Tensor.zeros(0, 3, 5, 5).cuda()).cpu().toFloatArray());
    }

    // ---------------------------------------------------------------- pooling

    @Test
    void poolingAndItsGradientsMatchTheCpuWhereCudnnCanExpressThem() {
        int compared = 0;
        for (int trial = 0; trial < 160; trial++) {
            Rng r = Rng.fresh();
            PoolKernelsTest.Pool q = PoolKernelsTest.Pool.random(r, false);
            DType t = r.pick(TYPES);
            TT x = TestTensors.random(r, t, q.input(), r.pick(Layout.values()), Domain.plain(-1, 1));
            TT g = Check.random(r, t, q.output());
            Tensor dx = CudaElementwiseGpuTest.onCuda(x), dg = CudaElementwiseGpuTest.onCuda(g);
            String ctx = q + " " + x + ", " + r;
            int[] k = q.k(), s = q.s(), p = q.p(), d = q.d();
            boolean ceil = q.ceil(), include = q.includePad();
            if (!floorSizesMatch(q)) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> PoolKernels.maxPool2d(dx, k, s, p, d, ceil), ctx);
                assertTrue(e.getMessage().contains("ceil_mode"), e.getMessage());
                assertThrows(UnsupportedOperationException.class, () -> PoolKernels.avgPool2d(dx, k, s, p, ceil, include), ctx);
                continue;
            }
            compared++;
            PoolKernels.PoolResult cpu = PoolKernels.maxPool2d(x.t(), k, s, p, d, ceil);
            PoolKernels.PoolResult gpu = PoolKernels.maxPool2d(dx, k, s, p, d, ceil);
            assertNull(gpu.indices(), ctx);
            assertClose(ctx + ": max", t, cpu.output(), Tensor.zerosLike(cpu.output()), gpu.output(), 0);
            assertClose(ctx + ": max gradient", t, PoolKernels.maxPool2dBackward(g.t(), cpu.indices(), q.input()),
                    PoolKernels.maxPool2dBackward(g.t().abs(), cpu.indices(), q.input()),
                    PoolKernels.maxPool2dBackward(dg, dx, gpu.output(), k, s, p, d, ceil), Check.tolerance(t));
            assertClose(ctx + ": avg", t, PoolKernels.avgPool2d(x.t(), k, s, p, ceil, include),
                    PoolKernels.avgPool2d(x.t().abs(), k, s, p, ceil, include), PoolKernels.avgPool2d(dx, k, s, p, ceil, include),
                    Check.tolerance(t));
            assertClose(ctx + ": avg gradient", t, PoolKernels.avgPool2dBackward(g.t(), q.input(), k, s, p, ceil, include),
                    PoolKernels.avgPool2dBackward(g.t().abs(), q.input(), k, s, p, ceil, include),
                    PoolKernels.avgPool2dBackward(dg, q.input(), k, s, p, ceil, include), Check.tolerance(t));
        }
        assertTrue(compared > 60, "most random poolings are expressible, got " + compared);
    }

    /** Whether the output sizes are cuDNN's floor formula's (in ceil mode they may be one more). */
    private static boolean floorSizesMatch(PoolKernelsTest.Pool q) {
        long floorH = Math.floorDiv(q.h() + 2L * q.p()[0] - q.k()[0], q.s()[0]) + 1;
        long floorW = Math.floorDiv(q.w() + 2L * q.p()[1] - q.k()[1], q.s()[1]) + 1;
        return floorH == q.outH() && floorW == q.outW();
    }

    @Test
    void maxPoolingPropagatesNaNAndWhatCudnnCannotExpressFailsWithAMessage() {
        double[] v = new double[16];
        for (int i = 0; i < 16; i++) v[i] = i;
        v[5] = Double.NaN;
        Tensor x = Tensor.fromArray(v, 1, 1, 4, 4).cuda();
        int[] two = {2}, zero = {0}, one = {1};
        double[] y = PoolKernels.maxPool2d(x, two, two, zero, one, false).output().cpu().toDoubleArray();
        assertTrue(Double.isNaN(y[0]), Arrays.toString(y));
        assertArrayEquals(new double[] {7, 13, 15}, Arrays.copyOfRange(y, 1, 4));
        // ceil mode that adds no window is plain pooling
        assertArrayEquals(y, PoolKernels.maxPool2d(x, two, two, zero, one, true).output().cpu().toDoubleArray());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> PoolKernels.maxPool2d(x, two, one, zero, two, false));
        assertTrue(e.getMessage().startsWith("max_pool2d on CUDA: dilation [2, 2] is not supported"), e.getMessage());
        Tensor odd = Tensor.randn(1, 2, 5, 5).cuda();
        e = assertThrows(UnsupportedOperationException.class, () -> PoolKernels.maxPool2d(odd, two, two, zero, one, true));
        assertTrue(e.getMessage().contains("ceil_mode=True adds a partial window here (output 3x3 instead of 2x2"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class, () -> PoolKernels.adaptiveAvgPool2d(odd, new int[] {2, 2}));
        assertTrue(e.getMessage().contains("does not divide into 2x2 equal windows"), e.getMessage());
    }

    @Test
    void adaptiveAveragePoolingThatDividesEvenlyMatchesTheCpu() {
        Rng r = Rng.fresh();
        for (int[] c : new int[][] {{6, 4, 3, 2}, {7, 7, 1, 1}, {8, 6, 8, 3}, {5, 9, 5, 1}}) {
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, 2, 3, c[0], c[1]);
            int[] out = {c[2], c[3]};
            String ctx = "adaptive_avg_pool2d(" + x + " to " + Arrays.toString(out) + "), " + r;
            Tensor expected = PoolKernels.adaptiveAvgPool2d(x.t(), out);
            assertClose(ctx, t, expected, PoolKernels.adaptiveAvgPool2d(x.t().abs(), out),
                    PoolKernels.adaptiveAvgPool2d(CudaElementwiseGpuTest.onCuda(x), out), Check.tolerance(t));
            TT g = Check.random(r, t, expected.shape());
            long[] in = x.shape();
            assertClose(ctx + ": gradient", t, PoolKernels.adaptiveAvgPool2dBackward(g.t(), in),
                    PoolKernels.adaptiveAvgPool2dBackward(g.t().abs(), in),
                    PoolKernels.adaptiveAvgPool2dBackward(CudaElementwiseGpuTest.onCuda(g), in), Check.tolerance(t));
        }
    }

    // ---------------------------------------------------------------- batch norm

    @Test
    void batchNormTrainingEvaluationAndBackwardMatchTheCpu() {
        for (int trial = 0; trial < 60; trial++) {
            Rng r = Rng.fresh();
            long[] shape = BatchNormKernelsTest.shape(r);
            int c = (int) shape[1];
            DType t = r.pick(TYPES);
            TT x = Check.random(r, t, shape), g = Check.random(r, t, shape);
            TT w = r.nextBoolean() ? Check.random(r, t, c) : null, b = r.nextBoolean() ? Check.random(r, t, c) : null;
            boolean mean = r.nextBoolean(), var = r.chance(0.8) ? mean : !mean;
            double momentum = r.nextDouble(0.05, 0.5);
            double[] rm0 = Check.values(r, c), rv0 = new double[c];
            for (int i = 0; i < c; i++) rv0[i] = r.nextDouble(0.5, 2);
            String ctx = "batch_norm(" + x + (w != null ? ", weight" : "") + (b != null ? ", bias" : "")
                    + (mean ? ", running_mean" : "") + (var ? ", running_var" : "") + "), " + r;
            Tensor hw = w == null ? null : w.t(), hb = b == null ? null : b.t();
            Tensor dw = w == null ? null : CudaElementwiseGpuTest.onCuda(w), db = b == null ? null : CudaElementwiseGpuTest.onCuda(b);
            Tensor hm = mean ? Check.tensor(t, rm0, c) : null, hv = var ? Check.tensor(t, rv0, c) : null;
            Tensor dm = mean ? Check.tensor(t, rm0, c).cuda() : null, dv = var ? Check.tensor(t, rv0, c).cuda() : null;
            Tensor dx = CudaElementwiseGpuTest.onCuda(x);
            double tol = Check.tolerance(t);

            BatchNormKernels.BatchNormResult cpu = BatchNormKernels.batchNormTraining(x.t(), hw, hb, hm, hv, momentum, EPS);
            BatchNormKernels.BatchNormResult gpu = BatchNormKernels.batchNormTraining(dx, dw, db, dm, dv, momentum, EPS);
            assertCloseGlobally(ctx + ": output", cpu.output(), gpu.output(), tol);
            assertCloseGlobally(ctx + ": save_mean", cpu.saveMean(), gpu.saveMean(), tol);
            assertCloseGlobally(ctx + ": save_invstd", cpu.saveInvstd(), gpu.saveInvstd(), tol);
            if (mean) assertCloseGlobally(ctx + ": running_mean", hm, dm, tol);
            if (var) assertCloseGlobally(ctx + ": running_var (unbiased variance folded in)", hv, dv, tol);

            BatchNormKernels.BatchNormGrads cg = BatchNormKernels.batchNormBackward(g.t(), x.t(), hw, cpu.saveMean(), cpu.saveInvstd(), EPS);
            BatchNormKernels.BatchNormGrads gg = BatchNormKernels.batchNormBackward(CudaElementwiseGpuTest.onCuda(g), dx, dw,
                    gpu.saveMean(), gpu.saveInvstd(), EPS);
            assertCloseGlobally(ctx + ": grad input", cg.gradInput(), gg.gradInput(), tol);
            // Σ dy·x̂ with x̂ = (x − mean)·invstd: the rounding of the float mean (u·|mean|) reaches
            // it multiplied by invstd·Σ|dy|, which a near-constant channel (invstd up to 1/√eps) makes large
            assertCloseGlobally(ctx + ": grad weight", cg.gradWeight(), gg.gradWeight(),
                    tol * Math.max(1, meanConditioning(cpu.saveMean(), cpu.saveInvstd(), g.t())));
            assertCloseGlobally(ctx + ": grad bias", cg.gradBias(), gg.gradBias(), tol);

            Tensor em = Check.tensor(t, rm0, c), ev = Check.tensor(t, rv0, c);
            assertCloseGlobally(ctx + ": evaluation", BatchNormKernels.batchNormInference(x.t(), hw, hb, em, ev, EPS),
                    BatchNormKernels.batchNormInference(dx, dw, db, em.cuda(), ev.cuda(), EPS), tol);
        }
    }

    /** float16 and bfloat16 inputs with float32 parameters and statistics (mixed precision) against float32 on the CPU. */
    @Test
    void halfPrecisionBatchNormWithFloat32ParametersMatchesFloat32() {
        for (int trial = 0; trial < 16; trial++) {
            Rng r = Rng.fresh();
            long[] shape = BatchNormKernelsTest.shape(r);
            int c = (int) shape[1];
            DType t = trial % 2 == 0 ? DType.FLOAT16 : DType.BFLOAT16;
            TT x = Check.random(r, t, shape), g = Check.random(r, t, shape);
            Tensor w = Check.random(r, DType.FLOAT32, c).t(), b = Check.random(r, DType.FLOAT32, c).t();
            Tensor hm = Tensor.zeros(c), hv = Tensor.ones(c), dm = Tensor.zeros(c).cuda(), dv = Tensor.ones(c).cuda();
            String ctx = "batch_norm(" + x + ") with float32 parameters, " + r;
            Tensor hx = x.t().to(DType.FLOAT32), hg = g.t().to(DType.FLOAT32);
            BatchNormKernels.BatchNormResult cpu = BatchNormKernels.batchNormTraining(hx, w, b, hm, hv, 0.1, EPS);
            BatchNormKernels.BatchNormResult gpu = BatchNormKernels.batchNormTraining(x.t().cuda(), w.cuda(), b.cuda(), dm, dv, 0.1, EPS);
            assertEquals(t, gpu.output().dtype(), ctx);
            assertCloseGlobally(ctx + ": output", cpu.output(), gpu.output().to(DType.FLOAT32), 1e-2);
            assertCloseGlobally(ctx + ": running_mean", hm, dm, 1e-3);
            assertCloseGlobally(ctx + ": running_var", hv, dv, 1e-3);
            BatchNormKernels.BatchNormGrads cg = BatchNormKernels.batchNormBackward(hg, hx, w, cpu.saveMean(), cpu.saveInvstd(), EPS);
            BatchNormKernels.BatchNormGrads gg = BatchNormKernels.batchNormBackward(g.t().cuda(), x.t().cuda(), w.cuda(),
                    gpu.saveMean(), gpu.saveInvstd(), EPS);
            assertEquals(DType.FLOAT32, gg.gradWeight().dtype(), ctx + ": weight gradient in the weight's dtype");
            assertCloseGlobally(ctx + ": grad input", cg.gradInput(), gg.gradInput().to(DType.FLOAT32), 1e-2);
            assertCloseGlobally(ctx + ": grad weight", cg.gradWeight(), gg.gradWeight(), 1e-2);
            assertCloseGlobally(ctx + ": grad bias", cg.gradBias(), gg.gradBias(), 1e-2);
        }
    }

    @Test
    void batchNormOnEmptyInputsLeavesRunningStatisticsAlone() {
        Tensor rm = Tensor.ones(3).cuda(), rv = Tensor.ones(3).cuda();
        BatchNormKernels.BatchNormResult got = BatchNormKernels.batchNormTraining(Tensor.zeros(0, 3).cuda(), null, null, rm, rv, 0.1, EPS);
        assertArrayEquals(new long[] {0, 3}, got.output().shape());
        assertTrue(got.output().isCuda());
        assertArrayEquals(new float[] {1, 1, 1}, rv.cpu().toFloatArray());
    }

    // ---------------------------------------------------------------- devices and autograd

    @Test
    void mixingDevicesFailsWithPyTorchsMessage() {
        String message = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!";
        int[] one = {1};
        Tensor x = Tensor.randn(2, 3, 5, 5).cuda();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConvKernels.conv2d(x, Tensor.randn(4, 3, 3, 3), null, one, one, one, 1));
        assertEquals(message, e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchNormKernels.batchNormTraining(x, Tensor.ones(3), null, null, null, 0.1, EPS));
        assertEquals(message, e.getMessage());
        Tensor y = PoolKernels.maxPool2d(x, new int[] {2}, null, new int[] {0}, one, false).output();
        e = assertThrows(IllegalArgumentException.class, () -> PoolKernels.maxPool2dBackward(Tensor.ones(y.shape()), x, y,
                new int[] {2}, null, new int[] {0}, one, false));
        assertEquals("Expected all tensors to be on the same device, but found at least two devices, cpu and cuda:0!",
                e.getMessage(), "the first operand's device is named first");
    }

    /** conv2d → batch_norm → max/avg pool through autograd in float64: the same output, gradients and running statistics. */
    @Test
    void aConvBatchNormPoolStackTrainsTheSameOnCudaAsOnTheCpu() {
        Rng r = Rng.fresh();
        for (boolean max : new boolean[] {true, false}) {
            Tensor[] host = {rand(r, 2, 3, 9, 9), rand(r, 4, 3, 3, 3), rand(r, 4), rand(r, 4), rand(r, 4)};
            Tensor g = rand(r, 2, 4, 5, 5);
            Tensor[] onCpu = leaves(host, Device.cpu()), onGpu = leaves(host, Device.cuda());
            Tensor[] stats = {Tensor.zeros(DType.FLOAT64, 4), Tensor.ones(DType.FLOAT64, 4)};
            Tensor[] gpuStats = {stats[0].cuda(), stats[1].cuda()};
            Tensor y = stack(onCpu, stats, max), yd = stack(onGpu, gpuStats, max);
            y.backward(g);
            yd.backward(g.cuda());
            String ctx = (max ? "max" : "avg") + " pool stack, " + r;
            assertCloseGlobally(ctx + ": output", y, yd, 1e-10);
            for (int i = 0; i < host.length; i++) {
                assertCloseGlobally(ctx + ": gradient of leaf " + i, onCpu[i].grad(), onGpu[i].grad(), 1e-10);
                assertTrue(onGpu[i].grad().isCuda(), ctx);
            }
            assertCloseGlobally(ctx + ": running_mean", stats[0], gpuStats[0], 1e-10);
            assertCloseGlobally(ctx + ": running_var", stats[1], gpuStats[1], 1e-10);
        }
    }

    private static Tensor stack(Tensor[] p, Tensor[] stats, boolean max) {
        int[] one = {1};
        Tensor h = NeuralOps.conv2d(p[0], p[1], p[2], one, one, one, 1);
        h = NeuralOps.batchNorm(h, stats[0], stats[1], p[3], p[4], true, 0.1, EPS);
        return max ? NeuralOps.maxPool2d(h, new int[] {3}, new int[] {2}, one, one, false)
                : NeuralOps.avgPool2d(h, new int[] {3}, new int[] {2}, one, false, true);
    }

    private static Tensor rand(Rng r, long... shape) {
        return Tensor.fromArray(Check.values(r, shape), shape);
    }

    /** Leaf copies of the host tensors on a device, each requiring grad. */
    private static Tensor[] leaves(Tensor[] host, Device d) {
        Tensor[] out = new Tensor[host.length];
        for (int i = 0; i < host.length; i++) out[i] = host[i].to(d).clone().requiresGrad_();
        return out;
    }

    // ---------------------------------------------------------------- comparisons

    /** A CPU tensor of x's values: float32 for the 16-bit types, which the CPU kernels do not take. */
    private static Tensor host(Tensor x) {
        return x.dtype() == DType.FLOAT16 || x.dtype() == DType.BFLOAT16 ? x.to(DType.FLOAT32) : x;
    }

    /**
     * got (on CUDA, of dtype t) within tol·scale[i] of expected (on the CPU); scale holds the sum
     * of the magnitudes of each value's terms. NaN only matches NaN.
     */
    private static void assertClose(String ctx, DType t, Tensor expected, Tensor scale, Tensor got, double tol) {
        assertTrue(got.isCuda(), ctx + ": result on " + got.device());
        assertEquals(t, got.dtype(), ctx + ": dtype");
        assertArrayEquals(expected.shape(), got.shape(), ctx + ": shape");
        double[] e = expected.toDoubleArray(), s = scale.toDoubleArray(), g = got.cpu().toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(g[i]) : Math.abs(g[i] - e[i]) <= tol * s[i] + 1e-30;
            if (!ok) fail(ctx + ": element " + i + " expected " + e[i] + " (terms " + s[i] + ") but got " + g[i]);
        }
    }

    /** max over channels of |mean|·invstd·Σ|dy|: how far the rounding of a mean moves Σ dy·x̂, per unit of rounding. */
    private static double meanConditioning(Tensor mean, Tensor invstd, Tensor dy) {
        double[] m = mean.toDoubleArray(), is = invstd.toDoubleArray();
        int[] dims = new int[dy.dim() - 1];
        for (int d = 2; d < dy.dim(); d++) dims[d - 1] = d;
        double[] dySums = dy.to(DType.FLOAT64).abs().sum(dims, false).toDoubleArray();
        double worst = 0;
        for (int c = 0; c < m.length; c++) worst = Math.max(worst, Math.abs(m[c]) * is[c] * dySums[c]);
        return worst;
    }

    /** got within tol·(1 + max |expected|) of expected everywhere: for sums whose terms are not at hand. */
    private static void assertCloseGlobally(String ctx, Tensor expected, Tensor got, double tol) {
        assertArrayEquals(expected.shape(), got.shape(), ctx + ": shape");
        double[] e = expected.toDoubleArray(), g = got.cpu().toDoubleArray();
        double scale = 1;
        for (double v : e) scale = Math.max(scale, 1 + Math.abs(v));
        for (int i = 0; i < g.length; i++) {
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(g[i]) : Math.abs(g[i] - e[i]) <= tol * scale;
            if (!ok) fail(ctx + ": element " + i + " expected " + e[i] + " but got " + g[i]);
        }
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.ffi.Cudnn;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.cpu.CpuConvGeometry;
import dev.ember.tensor.cuda.CudnnDescriptors;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The host-side decisions of the cuDNN-backed ops, which need no GPU: how shapes and dtypes
 * become descriptor sizes and cuDNN types, which math a convolution may use, which of cuDNN's
 * candidate algorithms is taken, what identifies a problem in the algorithm cache, and which
 * poolings cuDNN can express (every one PyTorch allows without dilation or a ceil-mode partial
 * window) and the messages of the ones it cannot.
 */
class CudnnPlanningTest {

    @Test
    void shapesBecomePackedNchwSizes() {
        assertArrayEquals(new int[] {2, 3, 4, 5}, CudnnDescriptors.nchw(new long[] {2, 3, 4, 5}));
        assertArrayEquals(new int[] {1, 3, 4, 5}, CudnnDescriptors.nchw(new long[] {3, 4, 5}), "an unbatched image");
        assertThrows(IllegalArgumentException.class, () -> CudnnDescriptors.nchw(new long[] {4, 5}));
        assertArrayEquals(new int[] {4, 3, 1, 1}, CudnnDescriptors.perChannel(new long[] {4, 3}), "BatchNorm1d on [N, C]");
        assertArrayEquals(new int[] {4, 3, 7, 1}, CudnnDescriptors.perChannel(new long[] {4, 3, 7}));
        assertArrayEquals(new int[] {2, 3, 120, 1}, CudnnDescriptors.perChannel(new long[] {2, 3, 4, 5, 6}), "BatchNorm3d");
        assertArrayEquals(new int[] {2, 3, 0, 1}, CudnnDescriptors.perChannel(new long[] {2, 3, 0, 5}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudnnDescriptors.perChannel(new long[] {1, 2, 1L << 16, 1L << 15}));
        assertEquals("cuDNN takes sizes below 2^31, but a tensor of size [1, 2, 65536, 32768] needs a dimension of 2147483648",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudnnDescriptors.nchw(new long[] {1L << 31, 1, 1, 1}));
    }

    @Test
    void dtypesBecomeCudnnTypesAndMath() {
        assertEquals(Cudnn.DATA_FLOAT, CudnnDescriptors.dataType(DType.FLOAT32));
        assertEquals(Cudnn.DATA_DOUBLE, CudnnDescriptors.dataType(DType.FLOAT64));
        assertEquals(Cudnn.DATA_HALF, CudnnDescriptors.dataType(DType.FLOAT16));
        assertEquals(Cudnn.DATA_BFLOAT16, CudnnDescriptors.dataType(DType.BFLOAT16));
        assertThrows(IllegalArgumentException.class, () -> CudnnDescriptors.dataType(DType.INT64));
        // half data accumulates in float, double in double
        assertEquals(Cudnn.DATA_FLOAT, CudnnDescriptors.computeType(DType.FLOAT16));
        assertEquals(Cudnn.DATA_FLOAT, CudnnDescriptors.computeType(DType.BFLOAT16));
        assertEquals(Cudnn.DATA_DOUBLE, CudnnDescriptors.computeType(DType.FLOAT64));
        assertEquals(DType.FLOAT32, CudnnDescriptors.parameterType(DType.BFLOAT16));
        assertEquals(DType.FLOAT32, CudnnDescriptors.parameterType(DType.FLOAT32));
        assertEquals(DType.FLOAT64, CudnnDescriptors.parameterType(DType.FLOAT64));
        // PyTorch's choice: TF32 only when allowed, tensor cores for the 16-bit types
        assertEquals(Cudnn.DEFAULT_MATH, CudnnDescriptors.convolutionMath(DType.FLOAT32, true));
        assertEquals(Cudnn.FMA_MATH, CudnnDescriptors.convolutionMath(DType.FLOAT32, false));
        assertEquals(Cudnn.TENSOR_OP_MATH, CudnnDescriptors.convolutionMath(DType.FLOAT16, false));
        assertEquals(Cudnn.TENSOR_OP_MATH, CudnnDescriptors.convolutionMath(DType.BFLOAT16, true));
        assertEquals(Cudnn.DEFAULT_MATH, CudnnDescriptors.convolutionMath(DType.FLOAT64, false));
        assertTrue(Ember.allowTf32Cudnn(), "cuDNN may use TF32 by default, as torch.backends.cudnn.allow_tf32");
    }

    @Test
    void theFirstRunnableAlgorithmOfTheAllowedMathIsTaken() {
        Cudnn.AlgorithmPerf unsupported = perf(0, 9, Cudnn.FMA_MATH);
        Cudnn.AlgorithmPerf tensorCores = perf(1, Cudnn.STATUS_SUCCESS, Cudnn.TENSOR_OP_MATH);
        Cudnn.AlgorithmPerf fma = perf(2, Cudnn.STATUS_SUCCESS, Cudnn.FMA_MATH);
        List<Cudnn.AlgorithmPerf> ranked = List.of(unsupported, tensorCores, fma);
        assertEquals(tensorCores, CudaConv.pick(ranked, Cudnn.DEFAULT_MATH, "problem"));
        assertEquals(fma, CudaConv.pick(ranked, Cudnn.FMA_MATH, "problem"), "with TF32 off no tensor-core algorithm qualifies");
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> CudaConv.pick(List.of(unsupported, tensorCores), Cudnn.FMA_MATH, "conv 7x7"));
        assertTrue(e.getMessage().startsWith("cuDNN offers no algorithm for conv 7x7"), e.getMessage());
    }

    private static Cudnn.AlgorithmPerf perf(int algo, int status, int math) {
        return new Cudnn.AlgorithmPerf(algo, status, -1, 1024L * algo, false, math);
    }

    @Test
    void aProblemIsIdentifiedByEveryParameterThatChangesTheAlgorithm() {
        CpuConvGeometry g = geometry(1, 1, 1);
        Map<CudaConv.Key, String> cache = new HashMap<>();
        cache.put(new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false, g), "chosen");
        assertEquals("chosen", cache.get(new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false,
                geometry(1, 1, 1))), "an equal problem made anew finds the cached choice");
        CudaConv.Key base = new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false, g);
        for (CudaConv.Key other : List.of(
                new CudaConv.Key(1, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false, g),
                new CudaConv.Key(0, CudaConv.Direction.BACKWARD_DATA, DType.FLOAT32, Cudnn.FMA_MATH, false, g),
                new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT64, Cudnn.FMA_MATH, false, g),
                new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.DEFAULT_MATH, false, g),
                new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, true, g),
                new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false, geometry(2, 1, 1)),
                new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false, geometry(1, 2, 1)),
                new CudaConv.Key(0, CudaConv.Direction.FORWARD, DType.FLOAT32, Cudnn.FMA_MATH, false, geometry(1, 1, 2)))) {
            assertNotEquals(base, other);
            assertEquals(null, cache.get(other), other.toString());
        }
    }

    /** An 8-channel 16x16 convolution by 3x3 with the given stride, dilation and groups (padding 1). */
    private static CpuConvGeometry geometry(int stride, int dilation, int groups) {
        int out = (16 + 2 - dilation * 2 - 1) / stride + 1;
        return new CpuConvGeometry(2, 8, 16, 16, 8, 3, 3, stride, stride, 1, 1, dilation, dilation, groups, out, out);
    }

    @Test
    void cudnnExpressesEveryPoolingWithoutDilationOrAPartialCeilWindow() {
        int partial = 0;
        for (int trial = 0; trial < 2000; trial++) {
            Rng r = Rng.fresh();
            int[] k = {r.nextInt(1, 5), r.nextInt(1, 5)}, s = {r.nextInt(1, 4), r.nextInt(1, 4)};
            int[] p = {r.nextInt(0, k[0] / 2), r.nextInt(0, k[1] / 2)}, d = {1, 1};
            int h = r.nextInt(1, 20), w = r.nextInt(1, 20);
            boolean ceil = r.nextBoolean();
            long outH = PoolKernelsTest.Pool.outSize(h, k[0], s[0], p[0], 1, ceil);
            long outW = PoolKernelsTest.Pool.outSize(w, k[1], s[1], p[1], 1, ceil);
            if (outH < 1 || outW < 1) continue;
            boolean adds = outH != PoolKernelsTest.Pool.outSize(h, k[0], s[0], p[0], 1, false)
                    || outW != PoolKernelsTest.Pool.outSize(w, k[1], s[1], p[1], 1, false);
            String ctx = h + "x" + w + " k " + k[0] + "x" + k[1] + " s " + s[0] + "x" + s[1] + " p " + p[0] + "x" + p[1]
                    + " ceil " + ceil + ", " + r;
            if (adds) {
                partial++;
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> CudaPool.checkExpressible("avg_pool2d", h, w, outH, outW, k, s, p, d, ceil), ctx);
                assertTrue(e.getMessage().startsWith("avg_pool2d on CUDA: ceil_mode=True adds a partial window here"), ctx);
            } else {
                assertDoesNotThrow(() -> CudaPool.checkExpressible("avg_pool2d", h, w, outH, outW, k, s, p, d, ceil), ctx);
            }
        }
        assertTrue(partial > 100, "ceil mode adds a window often enough to be tested: " + partial);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> CudaPool.checkExpressible("max_pool2d", 9, 9, 3, 4, new int[] {3, 3}, new int[] {2, 2}, new int[] {0, 0},
                        new int[] {2, 1}, false));
        assertEquals("max_pool2d on CUDA: dilation [2, 1] is not supported (cuDNN pooling has no dilation); use dilation 1"
                + " or pool on the CPU", e.getMessage());
    }
}

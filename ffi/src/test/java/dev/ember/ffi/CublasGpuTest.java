package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** cuBLAS GEMMs on random, non-square problems against a float64 reference (column-major, as BLAS). */
@Tag("gpu")
class CublasGpuTest {

    private DeviceBuffers buffers;
    private long handle;
    private long stream;
    private final Random random = new Random(2024);

    @BeforeAll
    static void requireCudaAndCublas() {
        Assumptions.assumeTrue(Cuda.isAvailable(), Cuda.unavailableReason());
        Assumptions.assumeTrue(NativeLibrary.CUBLAS.isAvailable(), NativeLibrary.CUBLAS.describe());
    }

    @BeforeEach
    void setUp() {
        CudaDriver.ensureContext(0);
        buffers = new DeviceBuffers();
        stream = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
        handle = Cublas.create();
        Cublas.setStream(handle, stream);
        Cublas.setMathMode(handle, Cublas.DEFAULT_MATH);
    }

    @AfterEach
    void tearDown() {
        if (handle != 0) {
            Cublas.destroy(handle);
        }
        if (stream != 0) {
            CudaDriver.streamSynchronize(stream);
            CudaDriver.streamDestroy(stream);
        }
        if (buffers != null) {
            buffers.close();
        }
    }

    /** alpha * op(A) * op(B) + beta * C, column-major, in double; also the magnitude each entry was summed from. */
    private static double[][] reference(boolean transA, boolean transB, int m, int n, int k, double alpha,
                                        double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc) {
        double[] out = new double[ldc * n];
        double[] scale = new double[ldc * n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double sum = 0;
                double magnitude = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[p + i * lda] : a[i + p * lda];
                    double bv = transB ? b[j + p * ldb] : b[p + j * ldb];
                    sum += av * bv;
                    magnitude += Math.abs(av * bv);
                }
                out[i + j * ldc] = alpha * sum + beta * c[i + j * ldc];
                scale[i + j * ldc] = Math.abs(alpha) * magnitude + Math.abs(beta * c[i + j * ldc]);
            }
        }
        return new double[][] {out, scale};
    }

    private void checkSgemm(int transA, int transB, int m, int n, int k) {
        boolean ta = transA == Cublas.OP_T;
        boolean tb = transB == Cublas.OP_T;
        int lda = ta ? k : m;
        int ldb = tb ? n : k;
        int ldc = m;
        float[] a = DeviceBuffers.randomFloats(random, lda * (ta ? m : k));
        float[] b = DeviceBuffers.randomFloats(random, ldb * (tb ? k : n));
        float[] c = DeviceBuffers.randomFloats(random, ldc * n);
        long aDev = buffers.upload(a);
        long bDev = buffers.upload(b);
        long cDev = buffers.upload(c);
        Cublas.sgemm(handle, transA, transB, m, n, k, 1.5f, aDev, lda, bDev, ldb, 0.5f, cDev, ldc);
        CudaDriver.streamSynchronize(stream);
        double[][] ref = reference(ta, tb, m, n, k, 1.5, DeviceBuffers.toDoubles(a), lda,
                DeviceBuffers.toDoubles(b), ldb, 0.5, DeviceBuffers.toDoubles(c), ldc);
        DeviceBuffers.assertClose("sgemm " + transA + transB, ref[0], ref[1],
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(cDev, ldc * n)), 1e-5);
    }

    @Test
    void sgemmMatchesAFloat64Reference() {
        checkSgemm(Cublas.OP_N, Cublas.OP_N, 67, 45, 33);
    }

    @Test
    void sgemmWithTransposes() {
        checkSgemm(Cublas.OP_T, Cublas.OP_N, 67, 45, 33);
        checkSgemm(Cublas.OP_N, Cublas.OP_T, 31, 64, 17);
        checkSgemm(Cublas.OP_T, Cublas.OP_T, 5, 3, 129);
    }

    @Test
    void dgemmMatchesAFloat64Reference() {
        int m = 37;
        int n = 23;
        int k = 41;
        double[] a = DeviceBuffers.randomDoubles(random, m * k);
        double[] b = DeviceBuffers.randomDoubles(random, n * k); // stored n x k, used transposed
        double[] c = DeviceBuffers.randomDoubles(random, m * n);
        long cDev = buffers.upload(c);
        Cublas.dgemm(handle, Cublas.OP_N, Cublas.OP_T, m, n, k, -0.75, buffers.upload(a), m, buffers.upload(b), n,
                2.0, cDev, m);
        CudaDriver.streamSynchronize(stream);
        double[][] ref = reference(false, true, m, n, k, -0.75, a, m, b, n, 2.0, c, m);
        DeviceBuffers.assertClose("dgemm", ref[0], ref[1], DeviceBuffers.downloadDoubles(cDev, m * n), 1e-13);
    }

    @Test
    void gemmExInFloat32AndWithTf32() {
        int m = 67;
        int n = 45;
        int k = 33;
        float[] a = DeviceBuffers.randomFloats(random, m * k);
        float[] b = DeviceBuffers.randomFloats(random, k * n);
        float[] c = new float[m * n];
        long aDev = buffers.upload(a);
        long bDev = buffers.upload(b);
        double[][] ref = reference(false, false, m, n, k, 1.0, DeviceBuffers.toDoubles(a), m,
                DeviceBuffers.toDoubles(b), k, 0.0, DeviceBuffers.toDoubles(c), m);

        long exact = buffers.upload(c);
        Cublas.gemmEx(handle, Cublas.OP_N, Cublas.OP_N, m, n, k, 1.0, aDev, Cublas.R_32F, m, bDev, Cublas.R_32F, k,
                0.0, exact, Cublas.R_32F, m, Cublas.COMPUTE_32F, Cublas.GEMM_DEFAULT);
        long tf32 = buffers.upload(c);
        Cublas.gemmEx(handle, Cublas.OP_N, Cublas.OP_N, m, n, k, 1.0, aDev, Cublas.R_32F, m, bDev, Cublas.R_32F, k,
                0.0, tf32, Cublas.R_32F, m, Cublas.COMPUTE_32F_FAST_TF32, Cublas.GEMM_DEFAULT);
        CudaDriver.streamSynchronize(stream);
        DeviceBuffers.assertClose("gemmEx 32F", ref[0], ref[1],
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(exact, m * n)), 1e-5);
        DeviceBuffers.assertClose("gemmEx TF32", ref[0], ref[1],
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(tf32, m * n)), 2e-3);
    }

    @Test
    void gemmExWithHalfInputsAndFloatOutput() {
        int m = 24;
        int n = 40;
        int k = 56;
        double[] a = new double[m * k];
        double[] b = new double[k * n];
        long aDev = uploadHalf(DeviceBuffers.randomFloats(random, m * k), a);
        long bDev = uploadHalf(DeviceBuffers.randomFloats(random, k * n), b);
        long cDev = buffers.upload(new float[m * n]);
        Cublas.gemmEx(handle, Cublas.OP_N, Cublas.OP_N, m, n, k, 1.0, aDev, Cublas.R_16F, m, bDev, Cublas.R_16F, k,
                0.0, cDev, Cublas.R_32F, m, Cublas.COMPUTE_32F, Cublas.GEMM_DEFAULT);
        CudaDriver.streamSynchronize(stream);
        double[][] ref = reference(false, false, m, n, k, 1.0, a, m, b, k, 0.0, new double[m * n], m);
        DeviceBuffers.assertClose("gemmEx 16F->32F", ref[0], ref[1],
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(cDev, m * n)), 1e-5);
    }

    /** Uploads values rounded to half precision; rounded receives what was uploaded, as doubles. */
    private long uploadHalf(float[] values, double[] rounded) {
        long ptr = buffers.allocate(values.length * 2L);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_SHORT, values.length);
            for (int i = 0; i < values.length; i++) {
                short half = Float.floatToFloat16(values[i]);
                host.setAtIndex(JAVA_SHORT, i, half);
                rounded[i] = Float.float16ToFloat(half);
            }
            CudaDriver.memcpyHtoD(ptr, host, values.length * 2L);
        }
        return ptr;
    }

    @Test
    void gemmStridedBatchedExInFloat64() {
        int m = 5;
        int n = 7;
        int k = 4;
        int batch = 3;
        long strideA = m * k + 3L;
        long strideB = k * n + 1L;
        long strideC = m * n + 2L;
        double[] a = DeviceBuffers.randomDoubles(random, (int) (strideA * batch));
        double[] b = DeviceBuffers.randomDoubles(random, (int) (strideB * batch));
        double[] c = DeviceBuffers.randomDoubles(random, (int) (strideC * batch));
        long cDev = buffers.upload(c);
        Cublas.gemmStridedBatchedEx(handle, Cublas.OP_N, Cublas.OP_N, m, n, k, 0.5,
                buffers.upload(a), Cublas.R_64F, m, strideA, buffers.upload(b), Cublas.R_64F, k, strideB, -1.0,
                cDev, Cublas.R_64F, m, strideC, batch, Cublas.COMPUTE_64F, Cublas.GEMM_DEFAULT);
        CudaDriver.streamSynchronize(stream);
        double[] result = DeviceBuffers.downloadDoubles(cDev, c.length);
        for (int i = 0; i < batch; i++) {
            double[] ai = java.util.Arrays.copyOfRange(a, (int) (i * strideA), (int) (i * strideA) + m * k);
            double[] bi = java.util.Arrays.copyOfRange(b, (int) (i * strideB), (int) (i * strideB) + k * n);
            double[] ci = java.util.Arrays.copyOfRange(c, (int) (i * strideC), (int) (i * strideC) + m * n);
            double[][] ref = reference(false, false, m, n, k, 0.5, ai, m, bi, k, -1.0, ci, m);
            double[] got = java.util.Arrays.copyOfRange(result, (int) (i * strideC), (int) (i * strideC) + m * n);
            DeviceBuffers.assertClose("batch " + i, ref[0], ref[1], got, 1e-13);
        }
        // The padding between matrices is untouched.
        assertEquals(c[(int) strideC - 1], result[(int) strideC - 1]);
    }

    @Test
    void aWorkspaceAndTf32MathModeAreAccepted() {
        long workspace = buffers.allocate(4L << 20);
        Cublas.setWorkspace(handle, workspace, 4L << 20);
        Cublas.setMathMode(handle, Cublas.TF32_TENSOR_OP_MATH);
        int m = 64;
        int n = 48;
        int k = 96;
        float[] a = DeviceBuffers.randomFloats(random, m * k);
        float[] b = DeviceBuffers.randomFloats(random, k * n);
        long cDev = buffers.upload(new float[m * n]);
        Cublas.sgemm(handle, Cublas.OP_N, Cublas.OP_N, m, n, k, 1f, buffers.upload(a), m, buffers.upload(b), k,
                0f, cDev, m);
        CudaDriver.streamSynchronize(stream);
        double[][] ref = reference(false, false, m, n, k, 1, DeviceBuffers.toDoubles(a), m,
                DeviceBuffers.toDoubles(b), k, 0, new double[m * n], m);
        DeviceBuffers.assertClose("sgemm TF32", ref[0], ref[1],
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(cDev, m * n)), 2e-3);
    }

    @Test
    void anInvalidLeadingDimensionIsReportedByName() {
        long aDev = buffers.allocate(64 * 4);
        CudaException e = assertThrows(CudaException.class, () -> Cublas.sgemm(handle, Cublas.OP_N, Cublas.OP_N,
                8, 8, 8, 1f, aDev, 4 /* lda < m */, aDev, 8, 0f, aDev, 8));
        assertEquals(CudaException.Api.CUBLAS, e.api());
        assertEquals("cublasSgemm_v2", e.call());
        assertEquals(7, e.code());
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", e.errorName());
    }
}

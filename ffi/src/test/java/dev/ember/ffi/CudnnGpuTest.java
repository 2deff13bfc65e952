package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * cuDNN on small NCHW float problems against float64 references: convolution forward,
 * backward data and backward filter (each with both algorithm searches), activation,
 * softmax, pooling and batch normalization. Convolutions use FMA math so results are
 * float32-accurate (the default would allow TF32 on Ampere and newer).
 */
@Tag("gpu")
class CudnnGpuTest {

    // The problem of the issue: N=2, C=3, H=W=9, K=4 filters of 3x3, padding 1, stride 1.
    private static final int N = 2;
    private static final int C = 3;
    private static final int H = 9;
    private static final int W = 9;
    private static final int K = 4;
    private static final int R = 3;
    private static final int S = 3;
    private static final int PAD = 1;
    private static final int STRIDE = 1;
    private static final int OH = (H + 2 * PAD - R) / STRIDE + 1;
    private static final int OW = (W + 2 * PAD - S) / STRIDE + 1;

    private final Random random = new Random(77);
    private final List<long[]> descriptors = new ArrayList<>(); // {kind, handle}
    private DeviceBuffers buffers;
    private long handle;
    private long stream;

    @BeforeAll
    static void requireCudaAndCudnn() {
        Assumptions.assumeTrue(Cuda.isAvailable(), Cuda.unavailableReason());
        Assumptions.assumeTrue(NativeLibrary.CUDNN.isAvailable(), NativeLibrary.CUDNN.describe());
    }

    @BeforeEach
    void setUp() {
        CudaDriver.ensureContext(0);
        buffers = new DeviceBuffers();
        stream = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
        handle = Cudnn.create();
        Cudnn.setStream(handle, stream);
    }

    @AfterEach
    void tearDown() {
        if (stream != 0) {
            CudaDriver.streamSynchronize(stream);
        }
        for (long[] d : descriptors) {
            switch ((int) d[0]) {
                case 0 -> Cudnn.destroyTensorDescriptor(d[1]);
                case 1 -> Cudnn.destroyFilterDescriptor(d[1]);
                case 2 -> Cudnn.destroyConvolutionDescriptor(d[1]);
                case 3 -> Cudnn.destroyPoolingDescriptor(d[1]);
                default -> Cudnn.destroyActivationDescriptor(d[1]);
            }
        }
        if (handle != 0) {
            Cudnn.destroy(handle);
        }
        if (stream != 0) {
            CudaDriver.streamDestroy(stream);
        }
        if (buffers != null) {
            buffers.close();
        }
    }

    private long tensor(int n, int c, int h, int w) {
        long desc = Cudnn.createTensorDescriptor();
        descriptors.add(new long[] {0, desc});
        Cudnn.setTensor4dDescriptor(desc, Cudnn.TENSOR_NCHW, Cudnn.DATA_FLOAT, n, c, h, w);
        return desc;
    }

    private long filter() {
        long desc = Cudnn.createFilterDescriptor();
        descriptors.add(new long[] {1, desc});
        Cudnn.setFilter4dDescriptor(desc, Cudnn.DATA_FLOAT, Cudnn.TENSOR_NCHW, K, C, R, S);
        return desc;
    }

    private long convolution() {
        long desc = Cudnn.createConvolutionDescriptor();
        descriptors.add(new long[] {2, desc});
        Cudnn.setConvolution2dDescriptor(desc, PAD, PAD, STRIDE, STRIDE, 1, 1, Cudnn.CROSS_CORRELATION,
                Cudnn.DATA_FLOAT);
        Cudnn.setConvolutionGroupCount(desc, 1);
        Cudnn.setConvolutionMathType(desc, Cudnn.FMA_MATH);
        return desc;
    }

    private static int xi(int n, int c, int h, int w) {
        return ((n * C + c) * H + h) * W + w;
    }

    private static int yi(int n, int k, int h, int w) {
        return ((n * K + k) * OH + h) * OW + w;
    }

    private static int wi(int k, int c, int r, int s) {
        return ((k * C + c) * R + r) * S + s;
    }

    /** Forward, backward-data and backward-filter references by visiting every (output, tap) pair once. */
    private static final class ConvReference {
        final double[] y = new double[N * K * OH * OW];
        final double[] yScale = new double[y.length];
        final double[] dx = new double[N * C * H * W];
        final double[] dxScale = new double[dx.length];
        final double[] dw = new double[K * C * R * S];
        final double[] dwScale = new double[dw.length];

        ConvReference(float[] x, float[] w, float[] dy) {
            for (int n = 0; n < N; n++) {
                for (int k = 0; k < K; k++) {
                    for (int oh = 0; oh < OH; oh++) {
                        for (int ow = 0; ow < OW; ow++) {
                            for (int c = 0; c < C; c++) {
                                for (int r = 0; r < R; r++) {
                                    for (int s = 0; s < S; s++) {
                                        int ih = oh * STRIDE - PAD + r;
                                        int iw = ow * STRIDE - PAD + s;
                                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
                                            continue;
                                        }
                                        double xv = x[xi(n, c, ih, iw)];
                                        double wv = w[wi(k, c, r, s)];
                                        double dyv = dy[yi(n, k, oh, ow)];
                                        y[yi(n, k, oh, ow)] += xv * wv;
                                        yScale[yi(n, k, oh, ow)] += Math.abs(xv * wv);
                                        dx[xi(n, c, ih, iw)] += dyv * wv;
                                        dxScale[xi(n, c, ih, iw)] += Math.abs(dyv * wv);
                                        dw[wi(k, c, r, s)] += dyv * xv;
                                        dwScale[wi(k, c, r, s)] += Math.abs(dyv * xv);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static Cudnn.AlgorithmPerf firstRunnable(List<Cudnn.AlgorithmPerf> candidates, String what) {
        assertFalse(candidates.isEmpty(), what + ": no algorithms returned");
        return candidates.stream().filter(p -> p.status() == Cudnn.STATUS_SUCCESS).findFirst()
                .orElseThrow(() -> new AssertionError(what + ": no runnable algorithm in " + candidates));
    }

    @Test
    void convolutionForwardMatchesAFloat64Reference() {
        float[] x = DeviceBuffers.randomFloats(random, N * C * H * W);
        float[] w = DeviceBuffers.randomFloats(random, K * C * R * S);
        ConvReference ref = new ConvReference(x, w, new float[N * K * OH * OW]);
        long xDesc = tensor(N, C, H, W);
        long wDesc = filter();
        long conv = convolution();
        assertArrayEquals(new int[] {N, K, OH, OW}, Cudnn.convolution2dForwardOutputDim(conv, xDesc, wDesc));
        assertArrayEquals(new int[] {N, K, OH, OW}, Cudnn.convolutionNdForwardOutputDim(conv, xDesc, wDesc, 4));
        long yDesc = tensor(N, K, OH, OW);
        long xDev = buffers.upload(x);
        long wDev = buffers.upload(w);

        List<Cudnn.AlgorithmPerf> heuristics = Cudnn.getConvolutionForwardAlgorithms(handle, xDesc, wDesc, conv, yDesc);
        List<Cudnn.AlgorithmPerf> measured = Cudnn.findConvolutionForwardAlgorithms(handle, xDesc, wDesc, conv, yDesc);
        for (Cudnn.AlgorithmPerf algo : List.of(firstRunnable(heuristics, "heuristics"),
                firstRunnable(measured, "find"))) {
            long bytes = Cudnn.convolutionForwardWorkspaceSize(handle, xDesc, wDesc, conv, yDesc, algo.algo());
            long workspace = bytes > 0 ? buffers.allocate(bytes) : 0;
            long yDev = buffers.upload(new float[N * K * OH * OW]);
            Cudnn.convolutionForward(handle, 1.0, xDesc, xDev, wDesc, wDev, conv, algo.algo(), workspace, bytes,
                    0.0, yDesc, yDev);
            CudaDriver.streamSynchronize(stream);
            DeviceBuffers.assertClose("conv forward, algorithm " + algo.algo(), ref.y, ref.yScale,
                    DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(yDev, ref.y.length)), 1e-5);
        }
    }

    @Test
    void convolutionBackwardDataAndFilterMatchFloat64References() {
        float[] x = DeviceBuffers.randomFloats(random, N * C * H * W);
        float[] w = DeviceBuffers.randomFloats(random, K * C * R * S);
        float[] dy = DeviceBuffers.randomFloats(random, N * K * OH * OW);
        ConvReference ref = new ConvReference(x, w, dy);
        long xDesc = tensor(N, C, H, W);
        long wDesc = filter();
        long conv = convolution();
        long yDesc = tensor(N, K, OH, OW);
        long xDev = buffers.upload(x);
        long wDev = buffers.upload(w);
        long dyDev = buffers.upload(dy);

        for (List<Cudnn.AlgorithmPerf> candidates : List.of(
                Cudnn.getConvolutionBackwardDataAlgorithms(handle, wDesc, yDesc, conv, xDesc),
                Cudnn.findConvolutionBackwardDataAlgorithms(handle, wDesc, yDesc, conv, xDesc))) {
            Cudnn.AlgorithmPerf algo = firstRunnable(candidates, "backward data");
            long bytes = Cudnn.convolutionBackwardDataWorkspaceSize(handle, wDesc, yDesc, conv, xDesc, algo.algo());
            long workspace = bytes > 0 ? buffers.allocate(bytes) : 0;
            long dxDev = buffers.upload(new float[ref.dx.length]);
            Cudnn.convolutionBackwardData(handle, 1.0, wDesc, wDev, yDesc, dyDev, conv, algo.algo(), workspace, bytes,
                    0.0, xDesc, dxDev);
            CudaDriver.streamSynchronize(stream);
            DeviceBuffers.assertClose("conv backward data, algorithm " + algo.algo(), ref.dx, ref.dxScale,
                    DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dxDev, ref.dx.length)), 1e-5);
        }

        for (List<Cudnn.AlgorithmPerf> candidates : List.of(
                Cudnn.getConvolutionBackwardFilterAlgorithms(handle, xDesc, yDesc, conv, wDesc),
                Cudnn.findConvolutionBackwardFilterAlgorithms(handle, xDesc, yDesc, conv, wDesc))) {
            Cudnn.AlgorithmPerf algo = firstRunnable(candidates, "backward filter");
            long bytes = Cudnn.convolutionBackwardFilterWorkspaceSize(handle, xDesc, yDesc, conv, wDesc, algo.algo());
            long workspace = bytes > 0 ? buffers.allocate(bytes) : 0;
            long dwDev = buffers.upload(new float[ref.dw.length]);
            Cudnn.convolutionBackwardFilter(handle, 1.0, xDesc, xDev, yDesc, dyDev, conv, algo.algo(), workspace,
                    bytes, 0.0, wDesc, dwDev);
            CudaDriver.streamSynchronize(stream);
            DeviceBuffers.assertClose("conv backward filter, algorithm " + algo.algo(), ref.dw, ref.dwScale,
                    DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dwDev, ref.dw.length)), 1e-5);
        }

        // Bias gradient and bias add: sums of dy over n, h, w per channel, and y + bias.
        long biasDesc = tensor(1, K, 1, 1);
        long dbDev = buffers.upload(new float[K]);
        Cudnn.convolutionBackwardBias(handle, 1.0, yDesc, dyDev, 0.0, biasDesc, dbDev);
        float[] bias = DeviceBuffers.randomFloats(random, K);
        long yDev = buffers.upload(dy);
        Cudnn.addTensor(handle, 1.0, biasDesc, buffers.upload(bias), 1.0, yDesc, yDev);
        CudaDriver.streamSynchronize(stream);
        double[] db = new double[K];
        double[] dbScale = new double[K];
        double[] added = new double[dy.length];
        double[] addedScale = new double[dy.length];
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < K; k++) {
                for (int p = 0; p < OH * OW; p++) {
                    int i = (n * K + k) * OH * OW + p;
                    db[k] += dy[i];
                    dbScale[k] += Math.abs(dy[i]);
                    added[i] = (double) dy[i] + bias[k];
                    addedScale[i] = Math.abs(dy[i]) + Math.abs(bias[k]);
                }
            }
        }
        DeviceBuffers.assertClose("bias gradient", db, dbScale,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dbDev, K)), 1e-5);
        DeviceBuffers.assertClose("bias add", added, addedScale,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(yDev, dy.length)), 1e-6);
    }

    @Test
    void reluForwardAndBackward() {
        int count = N * C * H * W;
        float[] x = DeviceBuffers.randomFloats(random, count);
        float[] dy = DeviceBuffers.randomFloats(random, count);
        long desc = tensor(N, C, H, W);
        long act = Cudnn.createActivationDescriptor();
        descriptors.add(new long[] {4, act});
        Cudnn.setActivationDescriptor(act, Cudnn.ACTIVATION_RELU, Cudnn.PROPAGATE_NAN, 0.0);
        long xDev = buffers.upload(x);
        long yDev = buffers.upload(new float[count]);
        long dxDev = buffers.upload(new float[count]);
        Cudnn.activationForward(handle, act, 1.0, desc, xDev, 0.0, desc, yDev);
        Cudnn.activationBackward(handle, act, 1.0, desc, yDev, desc, buffers.upload(dy), desc, xDev, 0.0, desc, dxDev);
        CudaDriver.streamSynchronize(stream);
        float[] y = DeviceBuffers.downloadFloats(yDev, count);
        float[] dx = DeviceBuffers.downloadFloats(dxDev, count);
        for (int i = 0; i < count; i++) {
            assertEquals(Math.max(0f, x[i]), y[i], "relu at " + i);
            assertEquals(x[i] > 0 ? dy[i] : 0f, dx[i], "relu gradient at " + i);
        }
    }

    @Test
    void softmaxOverChannelsForwardAndBackward() {
        int count = N * C * H * W;
        float[] x = DeviceBuffers.randomFloats(random, count);
        float[] dy = DeviceBuffers.randomFloats(random, count);
        long desc = tensor(N, C, H, W);
        long yDev = buffers.upload(new float[count]);
        long dxDev = buffers.upload(new float[count]);
        Cudnn.softmaxForward(handle, Cudnn.SOFTMAX_ACCURATE, Cudnn.SOFTMAX_MODE_CHANNEL, 1.0, desc, buffers.upload(x),
                0.0, desc, yDev);
        Cudnn.softmaxBackward(handle, Cudnn.SOFTMAX_ACCURATE, Cudnn.SOFTMAX_MODE_CHANNEL, 1.0, desc, yDev, desc,
                buffers.upload(dy), 0.0, desc, dxDev);
        CudaDriver.streamSynchronize(stream);
        double[] y = new double[count];
        double[] dx = new double[count];
        double[] ones = new double[count];
        java.util.Arrays.fill(ones, 1.0);
        for (int n = 0; n < N; n++) {
            for (int h = 0; h < H; h++) {
                for (int w = 0; w < W; w++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < C; c++) {
                        max = Math.max(max, x[xi(n, c, h, w)]);
                    }
                    double sum = 0;
                    for (int c = 0; c < C; c++) {
                        sum += Math.exp(x[xi(n, c, h, w)] - max);
                    }
                    double dot = 0;
                    for (int c = 0; c < C; c++) {
                        y[xi(n, c, h, w)] = Math.exp(x[xi(n, c, h, w)] - max) / sum;
                        dot += y[xi(n, c, h, w)] * dy[xi(n, c, h, w)];
                    }
                    for (int c = 0; c < C; c++) {
                        dx[xi(n, c, h, w)] = y[xi(n, c, h, w)] * (dy[xi(n, c, h, w)] - dot);
                    }
                }
            }
        }
        DeviceBuffers.assertClose("softmax", y, ones,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(yDev, count)), 1e-6);
        DeviceBuffers.assertClose("softmax gradient", dx, ones,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dxDev, count)), 1e-6);
    }

    @Test
    void maxPoolingForwardAndBackward() {
        // 2x2 windows, stride 2, no padding: 9x9 becomes 4x4, the last row and column are dropped.
        int ph = 4;
        int pw = 4;
        float[] x = DeviceBuffers.randomFloats(random, N * C * H * W);
        long xDesc = tensor(N, C, H, W);
        long pool = Cudnn.createPoolingDescriptor();
        descriptors.add(new long[] {3, pool});
        Cudnn.setPooling2dDescriptor(pool, Cudnn.POOLING_MAX, Cudnn.PROPAGATE_NAN, 2, 2, 0, 0, 2, 2);
        assertArrayEquals(new int[] {N, C, ph, pw}, Cudnn.pooling2dForwardOutputDim(pool, xDesc));
        long yDesc = tensor(N, C, ph, pw);
        long xDev = buffers.upload(x);
        long yDev = buffers.upload(new float[N * C * ph * pw]);
        float[] dy = DeviceBuffers.randomFloats(random, N * C * ph * pw);
        long dxDev = buffers.upload(new float[x.length]);
        Cudnn.poolingForward(handle, pool, 1.0, xDesc, xDev, 0.0, yDesc, yDev);
        Cudnn.poolingBackward(handle, pool, 1.0, yDesc, yDev, yDesc, buffers.upload(dy), xDesc, xDev, 0.0,
                xDesc, dxDev);
        CudaDriver.streamSynchronize(stream);
        float[] y = DeviceBuffers.downloadFloats(yDev, N * C * ph * pw);
        float[] dx = DeviceBuffers.downloadFloats(dxDev, x.length);
        float[] expectedDx = new float[x.length];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int oh = 0; oh < ph; oh++) {
                    for (int ow = 0; ow < pw; ow++) {
                        int best = xi(n, c, 2 * oh, 2 * ow);
                        for (int r = 0; r < 2; r++) {
                            for (int s = 0; s < 2; s++) {
                                int i = xi(n, c, 2 * oh + r, 2 * ow + s);
                                if (x[i] > x[best]) {
                                    best = i;
                                }
                            }
                        }
                        int o = ((n * C + c) * ph + oh) * pw + ow;
                        assertEquals(x[best], y[o], "max pool at " + o);
                        expectedDx[best] += dy[o];
                    }
                }
            }
        }
        assertArrayEquals(expectedDx, dx, "max pool gradient goes to each window's maximum");
    }

    @Test
    void batchNormalizationTrainingInferenceAndBackward() {
        int count = N * C * H * W;
        int m = N * H * W;
        double eps = 1e-5;
        double factor = 0.1;
        float[] x = DeviceBuffers.randomFloats(random, count);
        float[] dy = DeviceBuffers.randomFloats(random, count);
        float[] scale = DeviceBuffers.randomFloats(random, C);
        float[] bias = DeviceBuffers.randomFloats(random, C);
        float[] runningMean = DeviceBuffers.randomFloats(random, C);
        float[] runningVar = new float[C];
        java.util.Arrays.fill(runningVar, 1f);

        long xDesc = tensor(N, C, H, W);
        long bnDesc = Cudnn.createTensorDescriptor();
        descriptors.add(new long[] {0, bnDesc});
        Cudnn.deriveBNTensorDescriptor(bnDesc, xDesc, Cudnn.BATCHNORM_SPATIAL);
        long xDev = buffers.upload(x);
        long yDev = buffers.upload(new float[count]);
        long scaleDev = buffers.upload(scale);
        long biasDev = buffers.upload(bias);
        long meanDev = buffers.upload(runningMean);
        long varDev = buffers.upload(runningVar);
        long saveMean = buffers.upload(new float[C]);
        long saveInvStd = buffers.upload(new float[C]);
        Cudnn.batchNormalizationForwardTraining(handle, Cudnn.BATCHNORM_SPATIAL, 1.0, 0.0, xDesc, xDev, xDesc, yDev,
                bnDesc, scaleDev, biasDev, factor, meanDev, varDev, eps, saveMean, saveInvStd);

        long dxDev = buffers.upload(new float[count]);
        long dScale = buffers.upload(new float[C]);
        long dBias = buffers.upload(new float[C]);
        Cudnn.batchNormalizationBackward(handle, Cudnn.BATCHNORM_SPATIAL, 1.0, 0.0, 1.0, 0.0, xDesc, xDev,
                xDesc, buffers.upload(dy), xDesc, dxDev, bnDesc, scaleDev, dScale, dBias, eps, saveMean, saveInvStd);

        long inferDev = buffers.upload(new float[count]);
        Cudnn.batchNormalizationForwardInference(handle, Cudnn.BATCHNORM_SPATIAL, 1.0, 0.0, xDesc, xDev, xDesc,
                inferDev, bnDesc, scaleDev, biasDev, meanDev, varDev, eps);
        CudaDriver.streamSynchronize(stream);

        double[] y = new double[count];
        double[] dx = new double[count];
        double[] yInfer = new double[count];
        double[] mean = new double[C];
        double[] invStd = new double[C];
        double[] newRunningMean = new double[C];
        double[] newRunningVar = new double[C];
        double[] dScaleRef = new double[C];
        double[] dBiasRef = new double[C];
        for (int c = 0; c < C; c++) {
            double sum = 0;
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < H * W; p++) {
                    sum += x[xi(n, c, 0, 0) + p];
                }
            }
            mean[c] = sum / m;
            double squares = 0;
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < H * W; p++) {
                    double d = x[xi(n, c, 0, 0) + p] - mean[c];
                    squares += d * d;
                }
            }
            double variance = squares / m;
            invStd[c] = 1 / Math.sqrt(variance + eps);
            newRunningMean[c] = (1 - factor) * runningMean[c] + factor * mean[c];
            // cuDNN, like PyTorch, keeps the unbiased variance in the running statistics.
            newRunningVar[c] = (1 - factor) * runningVar[c] + factor * squares / (m - 1);
            double sumDy = 0;
            double sumDyXhat = 0;
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < H * W; p++) {
                    int i = xi(n, c, 0, 0) + p;
                    double xhat = (x[i] - mean[c]) * invStd[c];
                    y[i] = scale[c] * xhat + bias[c];
                    sumDy += dy[i];
                    sumDyXhat += dy[i] * xhat;
                }
            }
            dScaleRef[c] = sumDyXhat;
            dBiasRef[c] = sumDy;
            double runningInvStd = 1 / Math.sqrt(newRunningVar[c] + eps);
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < H * W; p++) {
                    int i = xi(n, c, 0, 0) + p;
                    double xhat = (x[i] - mean[c]) * invStd[c];
                    dx[i] = scale[c] * invStd[c] / m * (m * dy[i] - sumDy - xhat * sumDyXhat);
                    yInfer[i] = scale[c] * (x[i] - newRunningMean[c]) * runningInvStd + bias[c];
                }
            }
        }
        double[] unit = new double[count];
        java.util.Arrays.fill(unit, 1.0);
        double[] unitC = new double[C];
        java.util.Arrays.fill(unitC, 1.0);
        DeviceBuffers.assertClose("batchnorm y", y, unit, DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(yDev, count)), 1e-4);
        DeviceBuffers.assertClose("saved mean", mean, unitC,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(saveMean, C)), 1e-5);
        DeviceBuffers.assertClose("saved inverse std", invStd, invStd,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(saveInvStd, C)), 1e-4);
        DeviceBuffers.assertClose("running mean", newRunningMean, unitC,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(meanDev, C)), 1e-5);
        DeviceBuffers.assertClose("running variance", newRunningVar, unitC,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(varDev, C)), 1e-5);
        DeviceBuffers.assertClose("batchnorm dx", dx, unit,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dxDev, count)), 1e-4);
        double[] dScaleMagnitude = new double[C];
        java.util.Arrays.fill(dScaleMagnitude, m);
        DeviceBuffers.assertClose("scale gradient", dScaleRef, dScaleMagnitude,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dScale, C)), 1e-5);
        DeviceBuffers.assertClose("bias gradient", dBiasRef, dScaleMagnitude,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(dBias, C)), 1e-5);
        DeviceBuffers.assertClose("batchnorm inference", yInfer, unit,
                DeviceBuffers.toDoubles(DeviceBuffers.downloadFloats(inferDev, count)), 1e-4);
    }

    @Test
    void badParametersAreReportedWithCudnnsOwnWords() {
        long desc = Cudnn.createTensorDescriptor();
        descriptors.add(new long[] {0, desc});
        CudaException e = assertThrows(CudaException.class,
                () -> Cudnn.setTensor4dDescriptor(desc, Cudnn.TENSOR_NCHW, Cudnn.DATA_FLOAT, -1, 3, 9, 9));
        assertEquals(CudaException.Api.CUDNN, e.api());
        assertEquals("cudnnSetTensor4dDescriptor", e.call());
        assertTrue(e.errorName().startsWith("CUDNN_STATUS_BAD_PARAM"), e.getMessage());
        assertTrue(Cudnn.version() >= 90000);
    }
}

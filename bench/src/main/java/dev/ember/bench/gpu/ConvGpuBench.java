package dev.ember.bench.gpu;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.NeuralOps;
import dev.ember.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A ResNet-style 3×3 convolution on the GPU, in ms per call: input [64, 64, 56, 56] float32,
 * weight [64, 64, 3, 3], stride 1, padding 1, no bias (ResNet's convolutions have none: a batch
 * norm follows). {@code forward} is the convolution alone; {@code forwardBackward} also
 * backpropagates a fixed output gradient into the input and the weight, as a layer in the
 * middle of a network does, and clears both gradients after each step (PyTorch's peer sets
 * {@code .grad = None}), so nothing accumulates across calls.
 *
 * <p>{@code tf32}: {@code on} lets cuDNN round float32 inputs to TF32 on tensor cores (the
 * default of both Ember's {@link Ember#allowTf32Cudnn} and {@code torch.backends.cudnn.allow_tf32});
 * {@code off} keeps float32 math. The peer times PyTorch both ways, so each row compares the
 * same math. {@code algorithms}: {@code heuristic} takes cuDNN's heuristic choice (the default on
 * both sides), {@code timed} times the candidates once per shape in the warm-up
 * ({@link Ember#setCudnnBenchmark}; {@code torch.backends.cudnn.benchmark = True} in the peer). Each operation
 * queues {@value #OPS} calls and waits for the stream once. Target: ≥ 0.95 × PyTorch's speed.
 * The PyTorch side is {@code bench/peers/gpu_ops_peer.py} ({@code conv_fwd_ms},
 * {@code conv_fwdbwd_ms}, and their {@code _notf32} variants).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class ConvGpuBench {
    static final int OPS = 10;
    static final long BATCH = 64, CHANNELS = 64, SIZE = 56, KERNEL = 3;
    private static final int[] STRIDE = {1, 1}, PADDING = {1, 1}, DILATION = {1, 1};

    /** Whether float32 convolutions may use TF32 ({@link Ember#setAllowTf32Cudnn}). */
    @Param({"on", "off"})
    public String tf32;

    /** How cuDNN's algorithm is chosen ({@link Ember#setCudnnBenchmark}). */
    @Param({"heuristic", "timed"})
    public String algorithms;

    /** Operands of the forward-only benchmark (no gradients recorded). */
    private Tensor x, w;
    /** Leaves that require grad, for the forward+backward benchmark, and the output gradient. */
    private Tensor xg, wg, gradOut;

    @Setup(Level.Trial)
    public void setUp() {
        GpuBenchSupport.requireCuda("ConvGpuBench");
        Ember.setAllowTf32Cudnn(switch (tf32) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("tf32 is on or off, not " + tf32);
        });
        Ember.setCudnnBenchmark(switch (algorithms) {
            case "heuristic" -> false;
            case "timed" -> true;
            default -> throw new IllegalArgumentException("algorithms is heuristic or timed, not " + algorithms);
        });
        x = GpuBenchSupport.uniform(1, DType.FLOAT32, BATCH, CHANNELS, SIZE, SIZE);
        w = GpuBenchSupport.uniform(2, DType.FLOAT32, CHANNELS, CHANNELS, KERNEL, KERNEL);
        xg = GpuBenchSupport.uniform(1, DType.FLOAT32, BATCH, CHANNELS, SIZE, SIZE).requiresGrad_();
        wg = GpuBenchSupport.uniform(2, DType.FLOAT32, CHANNELS, CHANNELS, KERNEL, KERNEL).requiresGrad_();
        // stride 1 and padding 1 keep 56×56
        gradOut = GpuBenchSupport.uniform(3, DType.FLOAT32, BATCH, CHANNELS, SIZE, SIZE);
        GpuBenchSupport.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GpuBenchSupport.release(x, w, xg, wg, gradOut);
    }

    private static Tensor conv(Tensor input, Tensor weight) {
        return NeuralOps.conv2d(input, weight, null, STRIDE, PADDING, DILATION, 1);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void forward() {
        for (int i = 0; i < OPS; i++) {
            conv(x, w).close();
        }
        GpuBenchSupport.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void forwardBackward() {
        for (int i = 0; i < OPS; i++) {
            try (var scope = Ember.scope()) {
                conv(xg, wg).backward(gradOut);
            }
            xg.setGrad(null);
            wg.setGrad(null);
        }
        GpuBenchSupport.synchronize();
    }
}

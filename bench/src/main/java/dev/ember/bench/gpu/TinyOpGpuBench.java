package dev.ember.bench.gpu;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The host overhead of one op on the GPU, in µs per op: {@code a.add(b)} on 1-element float32
 * CUDA tensors, the result closed at once (its block goes back to the caching allocator,
 * stream-ordered). {@value #OPS} adds are queued back to back and the stream is waited for
 * once, so the queue stays full and the time per op is what the host spends launching it
 * (checks, the result's allocation, the launch), unless the GPU itself is slower than that.
 * Target: ≤ 0.5 × PyTorch's time per op. The PyTorch side is
 * {@code bench/peers/gpu_ops_peer.py} ({@code tiny_add_us}: {@code a + b}, then {@code del}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class TinyOpGpuBench {
    static final int OPS = 1000;

    private Tensor a, b;

    @Setup(Level.Trial)
    public void setUp() {
        GpuBenchSupport.requireCuda("TinyOpGpuBench");
        a = Tensor.full(GpuBenchSupport.DEVICE, DType.FLOAT32, 1.5, 1);
        b = Tensor.full(GpuBenchSupport.DEVICE, DType.FLOAT32, 2.5, 1);
        GpuBenchSupport.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GpuBenchSupport.release(a, b);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void add() {
        for (int i = 0; i < OPS; i++) {
            a.add(b).close();
        }
        GpuBenchSupport.synchronize();
    }
}

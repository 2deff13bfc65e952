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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@code x.softmax(-1)} over an n×n float32 tensor on the GPU (8192×8192: 256 MiB in, 256 MiB
 * out), in ms per softmax. {@value #OPS} softmaxes are queued back to back and the stream is
 * waited for once, so the time is the kernels' own plus a tenth of one synchronisation. The
 * PyTorch side is {@code bench/peers/gpu_ops_peer.py} ({@code softmax_<n>}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class SoftmaxGpuBench {
    static final int OPS = 10;

    @Param({"8192"})
    public int n;

    private Tensor x;

    @Setup(Level.Trial)
    public void setUp() {
        GpuBenchSupport.requireCuda("SoftmaxGpuBench");
        x = GpuBenchSupport.uniform(1, DType.FLOAT32, n, n);
        GpuBenchSupport.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GpuBenchSupport.release(x);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void softmax() {
        for (int i = 0; i < OPS; i++) {
            x.softmax(-1).close();
        }
        GpuBenchSupport.synchronize();
    }
}

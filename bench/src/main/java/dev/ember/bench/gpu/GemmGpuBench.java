package dev.ember.bench.gpu;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code a.matmul(b)} of two n×n matrices on the GPU (8192³), in TFLOP/s (2n³ flops per
 * product; 10^12 per second) as {@code matmul:teraflops} (JMH labels it ops/s):
 * {@code float32} with TF32 off ({@link Ember#setAllowTf32Matmul}{@code (false)}, Ember's
 * default; the peer sets {@code torch.backends.cuda.matmul.allow_tf32 = False}, PyTorch's), and
 * {@code bfloat16} (float32 accumulation on both sides). Target: ≥ 0.97 × PyTorch. Each operation queues
 * {@value #OPS} products and waits for the stream once. The PyTorch side is
 * {@code bench/peers/gpu_ops_peer.py} ({@code gemm_<dtype>_<n>}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class GemmGpuBench {
    static final int OPS = 4;

    @Param({"float32", "bfloat16"})
    public String dtype;

    @Param({"8192"})
    public int n;

    private Tensor a;
    private Tensor b;

    @Setup(Level.Trial)
    public void setUp() {
        GpuBenchSupport.requireCuda("GemmGpuBench");
        Ember.setAllowTf32Matmul(false);
        DType type = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        a = GpuBenchSupport.uniform(1, type, n, n);
        b = GpuBenchSupport.uniform(2, type, n, n);
        GpuBenchSupport.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GpuBenchSupport.release(a, b);
    }

    /** Floating-point operations done, in units of 10^12; JMH divides by the time: TFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Work {
        public double teraflops;
    }

    @Benchmark
    public void matmul(Work work) {
        for (int i = 0; i < OPS; i++) {
            a.matmul(b).close();
        }
        GpuBenchSupport.synchronize();
        work.teraflops += OPS * 2.0 * n * n * n / 1e12;
    }
}

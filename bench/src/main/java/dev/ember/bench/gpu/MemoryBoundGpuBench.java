package dev.ember.bench.gpu;

import dev.ember.tensor.DType;
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

import java.util.concurrent.TimeUnit;

/**
 * The two memory-bound ops the issue measures against the device-to-device copy roof
 * ({@link CopyBandwidthGpuBench#deviceToDevice}, same run), in GB/s as {@code name:gigabytes}
 * (JMH labels it ops/s):
 * <ul>
 *   <li>{@code add}: {@code a.add(b)} of two 256 MiB float32 tensors into a new one, counting
 *   3 × 256 MiB moved (two reads, one write); target ≥ 0.90 × d2d;</li>
 *   <li>{@code sum}: {@code x.sum()} of a 256 MiB float32 tensor, counting the 256 MiB read;
 *   target ≥ 0.85 × d2d.</li>
 * </ul>
 * Each operation queues the op back to back until at least {@value #BATCH_MIB} MiB have moved
 * (as the d2d benchmark batches its copies), closing each result (its block goes back to the
 * caching allocator, stream-ordered), then waits for the stream. The PyTorch side is
 * {@code bench/peers/gpu_ops_peer.py} ({@code add_<bytes>}, {@code sum_<bytes>}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class MemoryBoundGpuBench {
    private static final long MIB = 1024 * 1024;
    /** Traffic queued per operation, in MiB at least. */
    static final long BATCH_MIB = 1024;

    /** Bytes of each operand. */
    @Param({"268435456"})
    public long bytes;

    private Tensor a;
    private Tensor b;
    private int adds;
    private int sums;

    @Setup(Level.Trial)
    public void setUp() {
        GpuBenchSupport.requireCuda("MemoryBoundGpuBench");
        long n = bytes / DType.FLOAT32.itemSize();
        a = Tensor.full(GpuBenchSupport.DEVICE, DType.FLOAT32, 1.0, n);
        b = Tensor.full(GpuBenchSupport.DEVICE, DType.FLOAT32, 2.0, n);
        adds = (int) Math.max(1, Math.ceilDiv(BATCH_MIB * MIB, 3 * bytes));
        sums = (int) Math.max(1, Math.ceilDiv(BATCH_MIB * MIB, bytes));
        GpuBenchSupport.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GpuBenchSupport.release(a, b);
    }

    /** Gigabytes moved; JMH divides by the iteration's time, so the table shows GB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Moved {
        public double gigabytes;
    }

    /** Counts two operands read and the result written: 3 × bytes per add. */
    @Benchmark
    public void add(Moved moved) {
        for (int i = 0; i < adds; i++) {
            a.add(b).close();
        }
        GpuBenchSupport.synchronize();
        moved.gigabytes += 3.0 * adds * bytes / GpuBenchSupport.GB;
    }

    /** Counts the operand read: bytes per sum (the 4-byte result is nothing beside it). */
    @Benchmark
    public void sum(Moved moved) {
        for (int i = 0; i < sums; i++) {
            a.sum().close();
        }
        GpuBenchSupport.synchronize();
        moved.gigabytes += (double) sums * bytes / GpuBenchSupport.GB;
    }
}

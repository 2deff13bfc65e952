package dev.ember.bench.cpu;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
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
 * Memory-bound float32 ops on 16M-element (64 MiB) tensors, far larger than any cache, so
 * their speed is memory bandwidth. {@link Report} counts bytes read and written: 12 B per
 * element for add (two reads, one write), 4 B for sum; and compares with the copy roof
 * ({@link CopyRoofBench}) measured in the same run with the same thread count.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class BandwidthBench {
    /** Elements per tensor: 2^24 = 16M floats = 64 MiB. */
    @Param({"16777216"})
    public long floats;

    @Param({"1", Threads.ALL})
    public String threads;

    private Tensor a, b;

    @Setup(Level.Trial)
    public void setup() {
        Ember.setNumThreads(Threads.resolve(threads));
        Ember.manualSeed(42);
        a = Tensor.randn(floats);
        b = Tensor.randn(floats);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
    }

    /** Out of place: includes allocating (and freeing) the 64 MiB result, as a user's a.add(b) does. */
    @Benchmark
    public void add() {
        Tensor c = a.add(b);
        c.close();
    }

    /**
     * In place, a += b: the kernel's bandwidth without the allocation. a drifts by b each op;
     * after the few thousand ops of a run its values are still ordinary floats.
     */
    @Benchmark
    public void addInPlace() {
        a.add_(b);
    }

    @Benchmark
    public void sum() {
        Tensor s = a.sum();
        s.close();
    }
}

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
 * {@code x.softmax(1)} over the rows of an n×n float32 tensor (4096×4096 = 64 MiB).
 * {@link Report} shows the time and the bandwidth counting one read of x and one write of the
 * result (8 B per element), the least any softmax must move.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class SoftmaxBench {
    @Param({"4096"})
    public int n;

    @Param({"1", Threads.ALL})
    public String threads;

    private Tensor x;

    @Setup(Level.Trial)
    public void setup() {
        Ember.setNumThreads(Threads.resolve(threads));
        Ember.manualSeed(42);
        x = Tensor.randn(n, n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
    }

    @Benchmark
    public void softmax() {
        Tensor y = x.softmax(1);
        y.close();
    }
}

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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The host overhead of one op: {@code a.add(b)} on 1-element float32 tensors, where the
 * arithmetic is nothing and the cost is dispatch, shape checks, allocating the result and
 * freeing it (the result is closed inside the measured method).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class TinyOpBench {
    private Tensor a, b;

    @Setup(Level.Trial)
    public void setup() {
        Ember.manualSeed(42);
        a = Tensor.randn(1);
        b = Tensor.randn(1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
    }

    @Benchmark
    public void add() {
        Tensor c = a.add(b);
        c.close();
    }
}

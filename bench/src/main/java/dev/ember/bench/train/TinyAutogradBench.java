package dev.ember.bench.train;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The host cost of autograd on a tiny graph: forward and backward of y = (x*w + b).sum() on
 * 4-element float32 tensors, the leaves' grads cleared each time (as zero_grad(set_to_none)),
 * all temporaries freed by a scope. PyTorch's figure comes from bench/peers/fashion_mnist_torch.py.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TinyAutogradBench {
    private Tensor x, w, b;

    @Setup
    public void setUp() {
        Generator g = new Generator(0);
        x = Tensor.randn(g, 4);
        w = Tensor.randn(g, 4).requiresGrad_();
        b = Tensor.randn(g, 4).requiresGrad_();
    }

    @Benchmark
    public double forwardBackward() {
        try (var scope = Ember.scope()) {
            Tensor y = x.mul(w).add(b).sum();
            y.backward();
            double g = w.grad().get(0);
            w.setGrad(null);
            b.setGrad(null);
            return g;
        }
    }

    @TearDown
    public void tearDown() {
        x.close();
        w.close();
        b.close();
    }
}

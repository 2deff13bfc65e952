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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Square float32 sgemm, C = A·B: Ember's {@code a.mm(b)} against OpenBLAS's {@code cblas_sgemm}
 * on the same input memory, with the same thread count. Ember allocates its output (and the
 * benchmark closes it) on every op, as a user's {@code a.mm(b)} does; OpenBLAS writes into a
 * preallocated C. {@link Report} turns the time per op into GFLOP/s = 2n³ / time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class SgemmBench {
    @Param({"256", "512", "1024", "2048"})
    public int n;

    @Param({"1", Threads.ALL})
    public String threads;

    private Tensor a, b;
    /** OpenBLAS's output, and OpenBLAS itself: only in the fork that measures OpenBLAS. */
    private Tensor c;
    private OpenBlas blas;

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        int t = Threads.resolve(threads);
        Ember.manualSeed(42);
        a = Tensor.randn(n, n);
        b = Tensor.randn(n, n);
        if (params.getBenchmark().endsWith(".openblas")) {
            blas = OpenBlas.load();
            blas.setNumThreads(t);
            c = Tensor.empty(n, n);
            openblas();
            checkProduct("OpenBLAS", c);
        } else {
            Ember.setNumThreads(t);
            Tensor p = a.mm(b);
            checkProduct("Ember", p);
            p.close();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        if (c != null) c.close();
    }

    @Benchmark
    public void ember() {
        Tensor p = a.mm(b);
        p.close();
    }

    @Benchmark
    public void openblas() {
        blas.sgemm(n, a.data(), b.data(), c.data());
    }

    /**
     * Checks a few entries of the product against a double-precision dot product, so a
     * benchmark can never report the speed of a wrong result (a layout mix-up, say).
     */
    private void checkProduct(String who, Tensor product) {
        MemorySegment sa = a.data(), sb = b.data(), sc = product.data();
        int[][] at = {{0, 0}, {n - 1, n - 1}, {n / 3, 2 * n / 3}, {n - 1, 0}, {0, n - 1}};
        for (int[] ij : at) {
            int i = ij[0], j = ij[1];
            double want = 0, magnitude = 0;
            for (int k = 0; k < n; k++) {
                double term = (double) sa.getAtIndex(JAVA_FLOAT, (long) i * n + k)
                        * sb.getAtIndex(JAVA_FLOAT, (long) k * n + j);
                want += term;
                magnitude += Math.abs(term);
            }
            float got = sc.getAtIndex(JAVA_FLOAT, (long) i * n + j);
            // float32 accumulation over n terms: far below 1e-3 of the sum of magnitudes
            if (!(Math.abs(got - want) <= 1e-3 * magnitude + 1e-6)) {
                throw new IllegalStateException(who + " sgemm n=" + n + " is wrong at (" + i + ", " + j
                        + "): got " + got + ", expected " + want);
            }
        }
    }
}

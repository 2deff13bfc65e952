package dev.ember.examples;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;

/**
 * A tour of the tensor API on the CPU: creation, printing, broadcasting, type promotion, views,
 * reductions, and a timed float32 matrix multiply. Run it with the README's main command.
 */
public final class Demo {
    private Demo() {}

    public static void main(String[] args) {
        var gen = new Generator(0);
        try (var scope = Ember.scope()) {
            Tensor a = Tensor.arange(0.0, 6.0, 1.0).reshape(2, 3);
            Tensor b = Tensor.fromArray(new float[] {10, 20, 30});
            System.out.println("a =\n" + a);
            System.out.println("b = " + b);
            System.out.println("a + b (broadcast) =\n" + a.add(b));
            System.out.println("a.t() (a view, no copy) =\n" + a.t());
            System.out.println("int32 tensor + 2.5 promotes like PyTorch: "
                    + Tensor.fromArray(new int[] {1, 2, 3}).add(2.5));
            System.out.println("a.sum(1) = " + a.sum(1) + ", a.mean() = " + a.mean());
            System.out.println("softmax(a, dim=1) =\n" + a.softmax(1));
            System.out.println("max along dim 1: " + a.max(1).values() + " at " + a.max(1).indices());
            Tensor x = Tensor.randn(gen, 3, 4);
            System.out.println("randn(3, 4) with seed 0 =\n" + x);
            System.out.println("as float64: " + x.select(0, 0).to(DType.FLOAT64));
        }
        timeMatmul(gen, 1024);
        System.out.printf("off-heap memory: live %d bytes, peak %d bytes, leaked storages %d%n",
                Ember.liveBytes(), Ember.peakBytes(), Ember.leakedStorages());
    }

    /** Times an n x n float32 matmul on all cores, best of a few runs after warm-up. */
    private static void timeMatmul(Generator gen, int n) {
        try (var scope = Ember.scope()) {
            Tensor p = Tensor.randn(gen, n, n), q = Tensor.randn(gen, n, n);
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 8; i++) {
                long t0 = System.nanoTime();
                p.matmul(q).close();
                best = Math.min(best, System.nanoTime() - t0);
            }
            double gflops = 2.0 * n * n * n / best;
            System.out.printf("matmul %dx%d float32 on %d threads: %.2f ms, %.1f GFLOP/s%n",
                    n, n, Ember.numThreads(), best / 1e6, gflops);
        }
    }
}

package dev.ember.autograd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.function.DoublePredicate;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fresh random float64 leaves for gradient checks: a new seed per test (named in every failure,
 * so a failing draw can be replayed with {@code new Inputs(seed)}), values drawn from a chosen
 * distribution and kept away from an op's kinks, contiguous or strided (every other element of
 * a wider tensor, so the leaf itself is non-contiguous).
 */
final class Inputs {
    /** A distribution of values, and which draws to reject (near a kink of the op under test). */
    record Dist(ToDoubleFunction<SplittableRandom> draw, DoublePredicate accept) {
        Dist avoiding(DoublePredicate reject) {
            return new Dist(draw, v -> accept.test(v) && !reject.test(v));
        }
    }

    /** Standard normal, kept 0.01 away from 0 (the kink of abs, sign, relu...). */
    static final Dist NORMAL = new Dist(SplittableRandom::nextGaussian, v -> Math.abs(v) > 0.01);
    /** Uniform on [0.3, 2.5): for log, sqrt, rsqrt, fractional powers. */
    static final Dist POSITIVE = uniform(0.3, 2.5);
    /** Normal times 3, at least 0.02 away from every integer and half-integer (floor, ceil, round). */
    static final Dist NON_INTEGER = new Dist(r -> 3 * r.nextGaussian(), v -> {
        double f = v * 2 - Math.floor(v * 2);
        return f > 0.04 && f < 0.96;
    });

    static Dist uniform(double lo, double hi) {
        return new Dist(r -> r.nextDouble(lo, hi), v -> true);
    }

    /** Magnitude uniform in [lo, hi), random sign: divisors. */
    static Dist awayFromZero(double lo, double hi) {
        return new Dist(r -> (r.nextBoolean() ? 1 : -1) * r.nextDouble(lo, hi), v -> true);
    }

    final long seed;
    final SplittableRandom random;

    Inputs() {
        this(System.nanoTime());
    }

    Inputs(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    double[] values(Dist d, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x;
            do {
                x = d.draw().applyAsDouble(random);
            } while (!d.accept().test(x));
            v[i] = x;
        }
        return v;
    }

    /** A contiguous float64 leaf that requires grad. */
    Tensor leaf(Dist d, long... shape) {
        return tensor(d, true, shape).requiresGrad_();
    }

    /** A non-contiguous float64 leaf (every other element of a wider tensor) that requires grad. */
    Tensor strided(Dist d, long... shape) {
        return tensor(d, false, shape).requiresGrad_();
    }

    /** A float64 tensor that does not require grad. */
    Tensor constant(Dist d, long... shape) {
        return tensor(d, true, shape);
    }

    Tensor leaf(Dist d, boolean contiguous, long... shape) {
        return tensor(d, contiguous, shape).requiresGrad_();
    }

    private Tensor tensor(Dist d, boolean contiguous, long[] shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        double[] v = values(d, n);
        if (shape.length == 0) return Tensor.scalar(DType.FLOAT64, v[0]); // fromArray(v) with no shape is 1-D
        if (contiguous) return Tensor.fromArray(v, shape.clone());
        long[] wide = shape.clone();
        wide[wide.length - 1] *= 2;
        double[] w = new double[2 * n];
        for (int i = 0; i < n; i++) {
            w[2 * i] = v[i];
            w[2 * i + 1] = Double.NaN; // never read: a wrong stride shows up as NaN
        }
        Tensor t = Tensor.fromArray(w, wide).slice(-1, 0, wide[wide.length - 1], 2);
        if (t.isContiguous() && n > 1) throw new AssertionError("expected a strided tensor");
        return t;
    }

    /** int64 indices uniform in [0, bound). */
    Tensor indices(long bound, long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = random.nextLong(bound);
        return Tensor.fromArray(v).reshape(shape.clone());
    }

    /** A random bool mask. */
    Tensor mask(long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        boolean[] v = new boolean[n];
        for (int i = 0; i < n; i++) v[i] = random.nextBoolean();
        return Tensor.fromArray(v).reshape(shape.clone());
    }

    /** A random shape of {@code rank} dims, each of size 1 to {@code max}. */
    long[] shape(int rank, int max) {
        long[] s = new long[rank];
        for (int i = 0; i < rank; i++) s[i] = 1 + random.nextInt(max);
        return s;
    }

    int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /**
     * Where the checked functions run. The leaves stay float64 host tensors, so the finite
     * differences are the same everywhere; on a device each function gets them moved there
     * (the move is recorded, so gradients flow back) and its result is brought back. The GPU
     * subclasses of the gradcheck classes set it around their run ({@link OnCuda}); tests run
     * one at a time.
     */
    private static Device device = Device.cpu();

    /**
     * Runs a gradcheck class's checks on CUDA: put on a GPU subclass with {@code @ExtendWith}.
     * Skips the class without a CUDA driver and device.
     */
    static final class OnCuda implements BeforeAllCallback, AfterAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
            device = Device.cuda();
        }

        @Override
        public void afterAll(ExtensionContext context) {
            device = Device.cpu();
        }
    }

    /** A constant of a checked function (an index, a mask) on the device of the function's input. */
    static Tensor on(Tensor input, Tensor constant) { return constant.to(input.device()); }

    /** GradCheck.check, naming the case and the seed in a failure. */
    void check(String what, Function<Tensor[], Tensor> f, Tensor... in) {
        Device d = device;
        Function<Tensor[], Tensor> run = d.isCpu() ? f : t -> {
            Tensor[] moved = new Tensor[t.length];
            for (int i = 0; i < t.length; i++) moved[i] = t[i] == null ? null : t[i].to(d);
            return f.apply(moved).cpu();
        };
        try {
            GradCheck.check(run, in);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(what + " (seed " + seed + "L, input shapes " + shapes(in) + "): " + e.getMessage(), e);
        }
    }

    /** Runs {@code body} inside a fresh scope. */
    static void scoped(Runnable body) {
        try (var s = Ember.scope()) {
            body.run();
        }
    }

    static String shapes(Tensor... in) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : in) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(java.util.Arrays.toString(t.shape())).append(t.isContiguous() ? "" : " strided");
        }
        return sb.toString();
    }
}

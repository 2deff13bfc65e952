package dev.ember.nn;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;
import java.util.function.Supplier;

/**
 * Parameter initialisation, as {@code torch.nn.init}: each function fills its tensor in place,
 * untracked by autograd, and returns it. Random ones draw from the given {@link Generator} (by
 * default the global one, which {@link Ember#manualSeed} reseeds), so a seed reproduces a model.
 */
public final class Init {
    private Init() {}

    /** U(a, b). */
    public static Tensor uniform_(Tensor t, double a, double b) { return uniform_(t, a, b, Generator.defaultGenerator()); }

    public static Tensor uniform_(Tensor t, double a, double b, Generator generator) {
        if (a > b) throw new IllegalArgumentException("uniform_ expects to return a [from, to) range, but found from=" + a + " > to=" + b);
        return fill(t, () -> Tensor.rand(generator, t.shape()).to(computeType(t)).mul(b - a).add(a));
    }

    /** N(mean, std^2). */
    public static Tensor normal_(Tensor t, double mean, double std) { return normal_(t, mean, std, Generator.defaultGenerator()); }

    public static Tensor normal_(Tensor t, double mean, double std, Generator generator) {
        if (std < 0) throw new IllegalArgumentException("normal expects std >= 0.0, but found std " + std);
        return fill(t, () -> Tensor.randn(generator, t.shape()).to(computeType(t)).mul(std).add(mean));
    }

    public static Tensor constant_(Tensor t, double value) {
        try (var off = Ember.noGrad()) {
            return t.fill_(value);
        }
    }

    public static Tensor zeros_(Tensor t) { return constant_(t, 0); }

    public static Tensor ones_(Tensor t) { return constant_(t, 1); }

    /** Kaiming (He) uniform with PyTorch's defaults: a = 0, mode "fan_in", nonlinearity "leaky_relu". */
    public static Tensor kaimingUniform_(Tensor t) {
        return kaimingUniform_(t, 0, "fan_in", "leaky_relu", Generator.defaultGenerator());
    }

    /**
     * U(-bound, bound) with bound = gain * sqrt(3 / fan), gain from {@link #calculateGain} with
     * {@code a} as the negative slope of leaky_relu, fan the fan-in or fan-out chosen by {@code mode}.
     */
    public static Tensor kaimingUniform_(Tensor t, double a, String mode, String nonlinearity, Generator generator) {
        if (t.numel() == 0) return t; // PyTorch warns and leaves zero-element tensors alone
        double bound = Math.sqrt(3.0) * kaimingStd(t, a, mode, nonlinearity);
        return uniform_(t, -bound, bound, generator);
    }

    /** Kaiming (He) normal with PyTorch's defaults: a = 0, mode "fan_in", nonlinearity "leaky_relu". */
    public static Tensor kaimingNormal_(Tensor t) {
        return kaimingNormal_(t, 0, "fan_in", "leaky_relu", Generator.defaultGenerator());
    }

    /** N(0, std^2) with std = gain / sqrt(fan). */
    public static Tensor kaimingNormal_(Tensor t, double a, String mode, String nonlinearity, Generator generator) {
        if (t.numel() == 0) return t;
        return normal_(t, 0, kaimingStd(t, a, mode, nonlinearity), generator);
    }

    private static double kaimingStd(Tensor t, double a, String mode, String nonlinearity) {
        long[] fans = fanInAndFanOut(t);
        long fan = switch (mode) {
            case "fan_in" -> fans[0];
            case "fan_out" -> fans[1];
            default -> throw new IllegalArgumentException("Mode " + mode + " not supported, please use one of fan_in, fan_out");
        };
        return calculateGain(nonlinearity, a) / Math.sqrt(fan);
    }

    /** Xavier (Glorot) uniform with gain 1. */
    public static Tensor xavierUniform_(Tensor t) { return xavierUniform_(t, 1, Generator.defaultGenerator()); }

    /** U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). */
    public static Tensor xavierUniform_(Tensor t, double gain, Generator generator) {
        double a = Math.sqrt(3.0) * xavierStd(t, gain);
        return uniform_(t, -a, a, generator);
    }

    /** Xavier (Glorot) normal with gain 1. */
    public static Tensor xavierNormal_(Tensor t) { return xavierNormal_(t, 1, Generator.defaultGenerator()); }

    /** N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
    public static Tensor xavierNormal_(Tensor t, double gain, Generator generator) {
        return normal_(t, 0, xavierStd(t, gain), generator);
    }

    private static double xavierStd(Tensor t, double gain) {
        long[] fans = fanInAndFanOut(t);
        return gain * Math.sqrt(2.0 / (fans[0] + fans[1]));
    }

    /** The recommended gain for {@code nonlinearity}; leaky_relu's negative slope defaults to 0.01. */
    public static double calculateGain(String nonlinearity) {
        return calculateGain(nonlinearity, "leaky_relu".equals(nonlinearity) ? 0.01 : Double.NaN);
    }

    /** @param param leaky_relu's negative slope; ignored by the others */
    public static double calculateGain(String nonlinearity, double param) {
        return switch (nonlinearity) {
            case "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid" -> 1;
            case "tanh" -> 5.0 / 3;
            case "relu" -> Math.sqrt(2.0);
            case "leaky_relu" -> Math.sqrt(2.0 / (1 + param * param));
            case "selu" -> 3.0 / 4;
            default -> throw new IllegalArgumentException("Unsupported nonlinearity " + nonlinearity);
        };
    }

    /**
     * {fan_in, fan_out} of a weight: dim 1 and dim 0 times the receptive field (the product of
     * the dims after the first two), as PyTorch computes them for Linear and Conv weights.
     */
    public static long[] fanInAndFanOut(Tensor t) {
        if (t.dim() < 2) {
            throw new IllegalArgumentException("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
        }
        long receptiveField = 1;
        for (int d = 2; d < t.dim(); d++) receptiveField *= t.size(d);
        return new long[] {t.size(1) * receptiveField, t.size(0) * receptiveField};
    }

    /**
     * The default of PyTorch's Linear and Conv layers: weight kaiming_uniform_ with a = sqrt(5),
     * which comes to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same range.
     */
    static void linearLayerDefaults(Tensor weight, Tensor bias, Generator generator) {
        kaimingUniform_(weight, Math.sqrt(5), "fan_in", "leaky_relu", generator);
        if (bias != null) {
            long fanIn = fanInAndFanOut(weight)[0];
            double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
            uniform_(bias, -bound, bound, generator);
        }
    }

    /** Draws in the tensor's own floating type, so a float64 parameter gets float64 arithmetic. */
    private static DType computeType(Tensor t) {
        return t.dtype().isFloatingPoint() ? t.dtype() : DType.FLOAT32;
    }

    private static Tensor fill(Tensor t, Supplier<Tensor> values) {
        try (var off = Ember.noGrad(); var scope = Ember.scope()) {
            t.copy_(values.get());
        }
        return t;
    }
}

package dev.ember.nn.data;

import dev.ember.tensor.Tensor;
import java.util.Arrays;

/**
 * (x - mean) / std, per channel, as torchvision.transforms.Normalize: channels are dimension -3
 * of [..., C, H, W]. One mean and std apply to every channel.
 */
public final class Normalize implements Transform {
    /** Fashion-MNIST's training-set pixel mean and standard deviation (of pixels scaled to [0, 1]). */
    public static final Normalize FASHION_MNIST = new Normalize(0.2860, 0.3530);

    private final double[] mean;
    private final double[] std;

    /** The same mean and std for every channel. */
    public Normalize(double mean, double std) {
        this(new double[] {mean}, new double[] {std});
    }

    /** A mean and std per channel (or one of each for all channels). */
    public Normalize(double[] mean, double[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalize needs as many means as stds (at least one), got "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        for (double s : std) {
            // float32, because that is what the division will see
            if ((float) s == 0f || !Double.isFinite(s)) {
                throw new IllegalArgumentException("std evaluated to " + s + " after conversion to float32,"
                        + " leading to division by zero or non-finite values: " + Arrays.toString(std));
            }
        }
        this.mean = mean.clone();
        this.std = std.clone();
    }

    public double[] mean() { return mean.clone(); }

    public double[] std() { return std.clone(); }

    /** A normalised copy of {@code x}. */
    @Override
    public Tensor apply(Tensor x) {
        checkInput(x);
        Tensor y = x.clone();
        try {
            return normalize_(y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** Normalises {@code x} in place and returns it; what a dataset uses to normalise itself once. */
    public Tensor normalize_(Tensor x) {
        checkInput(x);
        if (mean.length == 1) {
            x.sub_(mean[0]).div_(std[0]);
            return x;
        }
        for (int c = 0; c < mean.length; c++) {
            try (Tensor channel = x.select(-3, c)) {
                channel.sub_(mean[c]).div_(std[c]);
            }
        }
        return x;
    }

    private void checkInput(Tensor x) {
        if (!x.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("Input tensor should be a float tensor. Got " + x.dtype() + ".");
        }
        if (mean.length > 1 && (x.dim() < 3 || x.size(-3) != mean.length)) {
            throw new IllegalArgumentException("Normalize with " + mean.length + " channels expects a tensor of shape"
                    + " [..., " + mean.length + ", H, W], got " + Arrays.toString(x.shape()));
        }
    }

    @Override
    public String toString() {
        return "Normalize(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
    }
}

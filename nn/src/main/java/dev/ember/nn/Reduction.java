package dev.ember.nn;

import dev.ember.tensor.Tensor;
import java.util.Locale;

/** How a loss combines its per-element values: PyTorch's {@code reduction="none"|"mean"|"sum"}. */
public enum Reduction {
    NONE, MEAN, SUM;

    /** Parses PyTorch's spelling; anything else fails as PyTorch does. */
    public static Reduction of(String name) {
        if (name != null) {
            switch (name) {
                case "none": return NONE;
                case "mean": return MEAN;
                case "sum": return SUM;
                default: break;
            }
        }
        throw new IllegalArgumentException(name + " is not a valid value for reduction");
    }

    /** The mean is over every element; losses whose mean has another denominator reduce themselves. */
    Tensor apply(Tensor losses) {
        return switch (this) {
            case NONE -> losses;
            case MEAN -> losses.mean();
            case SUM -> losses.sum();
        };
    }

    @Override
    public String toString() { return name().toLowerCase(Locale.ROOT); }
}

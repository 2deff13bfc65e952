package dev.ember.nn;

/**
 * A 2-D window argument (kernel size, stride, padding, dilation, output size) that remembers
 * whether it was given as one number, because PyTorch's pooling reprs print it as given:
 * {@code kernel_size=2} for {@code MaxPool2d(2)}, {@code kernel_size=(2, 3)} for a pair.
 */
record Size2(int height, int width, boolean scalar) {
    static Size2 of(int value) {
        return new Size2(value, value, true);
    }

    /** One value for both dims or one per dim, as torch's _pair. */
    static Size2 of(String name, int[] values) {
        if (values == null || values.length < 1 || values.length > 2) {
            throw new IllegalArgumentException("expected " + name + " to be a single integer value or a list of 2 values, but got "
                    + name + "=" + (values == null ? "null" : java.util.Arrays.toString(values)));
        }
        return values.length == 1 ? new Size2(values[0], values[0], false) : new Size2(values[0], values[1], false);
    }

    int[] toArray() { return new int[] {height, width}; }

    /** Always as a pair, as Conv2d prints its arguments. */
    String pair() { return Repr.tuple(height, width); }

    @Override
    public String toString() { return scalar ? Integer.toString(height) : pair(); }
}

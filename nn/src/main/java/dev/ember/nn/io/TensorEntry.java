package dev.ember.nn.io;

import dev.ember.tensor.DType;
import java.util.Arrays;

/**
 * One tensor as a safetensors header describes it: its dtype, its shape and where its bytes lie in
 * the data buffer ({@code begin} inclusive, {@code end} exclusive, counted from the buffer's start,
 * which follows the header).
 */
public record TensorEntry(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorEntry {
        shape = shape.clone();
    }

    /** A copy: the entry stays as it was read. */
    @Override
    public long[] shape() { return shape.clone(); }

    /** The number of bytes the entry's data_offsets span. */
    public long byteLength() { return end - begin; }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                && begin == e.begin && end == e.end;
    }

    @Override
    public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override
    public String toString() {
        return name + ": " + dtype + " " + Arrays.toString(shape) + " at [" + begin + ", " + end + ")";
    }
}

package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * One operand of a CPU kernel: memory, dtype, and where its elements are, in elements (offset,
 * and strides over the kernel's iteration shape; 0 where broadcast). Kernels know nothing of
 * tensors.
 */
public record Strided(MemorySegment segment, DType dtype, long offset, long[] strides) {

    long byteOffset() { return offset * dtype.itemSize(); }

    long[] byteStrides() {
        long[] b = new long[strides.length];
        for (int i = 0; i < b.length; i++) b[i] = strides[i] * dtype.itemSize();
        return b;
    }
}

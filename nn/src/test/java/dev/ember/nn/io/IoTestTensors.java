package dev.ember.nn.io;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Builds tensors from raw bytes and reads their bytes back, independently of the code under test. */
final class IoTestTensors {
    static final DType[] ALL = DType.values();

    private IoTestTensors() {}

    /**
     * The tensor's elements in row-major order as bytes in memory order, walking its strides
     * directly rather than through contiguous(), so the expectation does not share code with the
     * writer.
     */
    static byte[] rowMajorBytes(Tensor t) {
        int item = t.dtype().itemSize();
        long n = t.numel();
        byte[] out = new byte[Math.toIntExact(n * item)];
        if (n == 0) return out;
        long[] shape = t.shape(), strides = t.strides();
        long[] index = new long[shape.length];
        MemorySegment data = t.data();
        for (long flat = 0; flat < n; flat++) {
            long element = t.storageOffset();
            for (int d = 0; d < shape.length; d++) element += index[d] * strides[d];
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, element * item, out, (int) (flat * item), item);
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
        return out;
    }

    /** A contiguous tensor whose memory holds exactly {@code bytes}. */
    static Tensor fromBytes(DType dtype, long[] shape, byte[] bytes) {
        Tensor t = Tensor.empty(dtype, shape);
        if (bytes.length > 0) MemorySegment.copy(bytes, 0, t.data(), ValueLayout.JAVA_BYTE, 0, bytes.length);
        return t;
    }

    /**
     * Random bit patterns, so every float (NaNs, infinities, subnormals) and integer value can
     * appear; booleans are 0 or 1, the only values Ember keeps in a bool tensor.
     */
    static Tensor randomBits(Random r, DType dtype, long... shape) {
        Tensor probe = Tensor.empty(dtype, shape);
        byte[] bytes = new byte[Math.toIntExact(probe.numel() * dtype.itemSize())];
        probe.close();
        r.nextBytes(bytes);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (bytes[i] & 1);
        }
        return fromBytes(dtype, shape, bytes);
    }

    static long[] randomShape(Random r) {
        int rank = r.nextInt(5);
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) shape[d] = r.nextInt(8) == 0 ? 0 : 1 + r.nextInt(5);
        return shape;
    }
}

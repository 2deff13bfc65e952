package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Device memory for GPU tests: uploads and downloads of float/double arrays, freed together
 * by {@link #close()}, plus random data and a tolerance check against a float64 reference.
 */
final class DeviceBuffers implements AutoCloseable {

    private final List<Long> allocations = new ArrayList<>();

    long allocate(long bytes) {
        long ptr = CudaDriver.memAlloc(Math.max(bytes, 1));
        allocations.add(ptr);
        return ptr;
    }

    long upload(float[] values) {
        long ptr = allocate(values.length * 4L);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocateFrom(JAVA_FLOAT, values);
            CudaDriver.memcpyHtoD(ptr, host, values.length * 4L);
        }
        return ptr;
    }

    long upload(double[] values) {
        long ptr = allocate(values.length * 8L);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocateFrom(JAVA_DOUBLE, values);
            CudaDriver.memcpyHtoD(ptr, host, values.length * 8L);
        }
        return ptr;
    }

    static float[] downloadFloats(long ptr, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_FLOAT, count);
            CudaDriver.memcpyDtoH(host, ptr, count * 4L);
            return host.toArray(JAVA_FLOAT);
        }
    }

    static double[] downloadDoubles(long ptr, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(JAVA_DOUBLE, count);
            CudaDriver.memcpyDtoH(host, ptr, count * 8L);
            return host.toArray(JAVA_DOUBLE);
        }
    }

    static float[] randomFloats(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    static double[] randomDoubles(Random random, int count) {
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextDouble() * 2 - 1;
        }
        return values;
    }

    /**
     * Asserts |actual - expected| <= tolerance * scale[i] + tiny for every element, where scale
     * is the magnitude the result was accumulated from (for example sum |a_ik * b_kj|). NaN fails.
     */
    static void assertClose(String what, double[] expected, double[] scale, double[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double bound = tolerance * Math.max(scale[i], Math.abs(expected[i])) + 1e-30;
            if (Double.isNaN(actual[i]) || !(Math.abs(actual[i] - expected[i]) <= bound)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " within " + bound);
            }
        }
    }

    static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (long ptr : allocations) {
            try {
                CudaDriver.memFree(ptr);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        allocations.clear();
        if (first != null) {
            throw first;
        }
    }
}

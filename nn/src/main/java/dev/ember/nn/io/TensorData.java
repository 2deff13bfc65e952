package dev.ember.nn.io;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * Moves tensor bytes between a file and tensor memory through a small staging buffer. The file is
 * little-endian whatever the machine; copying element-wise from a native-order layout to a
 * little-endian one (or back) lets {@link MemorySegment#copy} swap bytes where the two differ and
 * degrade to a plain copy where they agree, so one code path serves every platform. The copy also
 * checks the bounds of both segments, so a wrong size can only ever throw, never touch memory it
 * should not.
 */
final class TensorData implements AutoCloseable {
    /** A multiple of every element size, so a chunk never splits an element. */
    static final int CHUNK_BYTES = 4 << 20;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment staging;
    private final ByteBuffer stagingBuffer;

    TensorData(long largestTensorBytes) {
        // rounded up to a multiple of 8 so that, like CHUNK_BYTES, a chunk never splits an element
        long size = Math.max(8, (Math.min(CHUNK_BYTES, largestTensorBytes) + 7) & ~7L);
        staging = arena.allocate(size, 8);
        stagingBuffer = staging.asByteBuffer();
    }

    /** Writes {@code t}'s elements in row-major order, little-endian. */
    void write(FileChannel channel, Tensor t) throws IOException {
        long bytes = Math.multiplyExact(t.numel(), (long) t.dtype().itemSize());
        if (bytes == 0) return; // a zero-size view's offset may lie past its storage: touch nothing
        // a device tensor is written from a host copy (which waits for the device's stream)
        try (Tensor c = t.isCuda() ? t.cpu() : t.contiguous()) {
            MemorySegment source = c.data();
            long start = Math.multiplyExact(c.storageOffset(), (long) c.dtype().itemSize());
            checkInside(source, start, bytes);
            for (long done = 0; done < bytes; ) {
                int n = (int) Math.min(staging.byteSize(), bytes - done);
                copy(source, nativeOrder(c.dtype()), start + done, staging, littleEndian(c.dtype()), 0, n, c.dtype());
                stagingBuffer.clear().limit(n);
                while (stagingBuffer.hasRemaining()) channel.write(stagingBuffer);
                done += n;
            }
        }
    }

    /**
     * Fills {@code t} (freshly allocated, contiguous, of the entry's shape) from the file at
     * {@code position}. Booleans are normalised to 0 and 1, the only values Ember's kernels expect.
     */
    void read(FileChannel channel, long position, Tensor t) throws IOException {
        long bytes = Math.multiplyExact(t.numel(), (long) t.dtype().itemSize());
        if (bytes == 0) return;
        MemorySegment target = t.data();
        long start = Math.multiplyExact(t.storageOffset(), (long) t.dtype().itemSize());
        checkInside(target, start, bytes);
        for (long done = 0; done < bytes; ) {
            int n = (int) Math.min(staging.byteSize(), bytes - done);
            stagingBuffer.clear().limit(n);
            while (stagingBuffer.hasRemaining()) {
                if (channel.read(stagingBuffer, position + done + stagingBuffer.position()) < 0) {
                    throw new EOFException("the file ended while reading tensor data (was it changed while being read?)");
                }
            }
            if (t.dtype() == DType.BOOL) normaliseBooleans(n);
            copy(staging, littleEndian(t.dtype()), 0, target, nativeOrder(t.dtype()), start + done, n, t.dtype());
            done += n;
        }
    }

    private void normaliseBooleans(int n) {
        for (long i = 0; i < n; i++) {
            byte b = staging.get(ValueLayout.JAVA_BYTE, i);
            if (b != 0 && b != 1) staging.set(ValueLayout.JAVA_BYTE, i, (byte) 1);
        }
    }

    private static void checkInside(MemorySegment segment, long start, long bytes) {
        if (start < 0 || bytes > segment.byteSize() - start) {
            throw new IllegalStateException("tensor of " + bytes + " bytes at byte " + start
                    + " does not fit its storage of " + segment.byteSize() + " bytes");
        }
    }

    private static void copy(MemorySegment from, ValueLayout fromLayout, long fromOffset, MemorySegment to,
            ValueLayout toLayout, long toOffset, int bytes, DType dtype) {
        MemorySegment.copy(from, fromLayout, fromOffset, to, toLayout, toOffset, bytes / dtype.itemSize());
    }

    private static ValueLayout nativeOrder(DType dtype) {
        return switch (dtype.itemSize()) {
            case 1 -> ValueLayout.JAVA_BYTE;
            case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED;
            case 4 -> ValueLayout.JAVA_INT_UNALIGNED;
            case 8 -> ValueLayout.JAVA_LONG_UNALIGNED;
            default -> throw new IllegalArgumentException("no layout for " + dtype.itemSize() + "-byte elements");
        };
    }

    private static ValueLayout littleEndian(DType dtype) {
        return nativeOrder(dtype).withOrder(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        arena.close();
    }
}

package dev.ember.tensor;

import dev.ember.ffi.CudaDriver;
import dev.ember.memory.Device;
import dev.ember.memory.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A few int64 words in device memory that kernels report into: set from the host before the
 * launches, read back after them. Index kernels report a bad index into one (index.cu's
 * {@code EmberIndexError}: int32 flag at 0, int32 reserved at 4, int64 smallest bad position at
 * 8, so as two words {0, INT64_MAX} when clear), one_hot's class range is read through another
 * ({min, max}). Reading back waits for the stream: that is the price of checking indices on the
 * device, paid once per op.
 */
final class CudaReport implements AutoCloseable {
    private final Tensor words;
    private final Stream stream;

    private CudaReport(Tensor words, Stream stream) {
        this.words = words;
        this.stream = stream;
    }

    /** Words on {@code device} holding {@code initial}, written on the device's current stream. */
    static CudaReport of(Device device, long... initial) {
        Stream stream = CudaOps.stream(device);
        Tensor words = Tensor.empty(device, DType.INT64, initial.length);
        long bytes = (long) initial.length * Long.BYTES;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(bytes, Long.BYTES);
            MemorySegment.copy(initial, 0, host, ValueLayout.JAVA_LONG, 0, initial.length);
            // from pageable memory the driver stages the bytes before returning, so the arena may close
            CudaDriver.memcpyHtoDAsync(CudaOps.address(words), host, bytes, stream.handle());
        } catch (RuntimeException e) {
            words.close();
            throw e;
        }
        return new CudaReport(words, stream);
    }

    /** A clear bad-index record: {flag 0, reserved 0, position INT64_MAX}. */
    static CudaReport indexError(Device device) {
        return of(device, 0, Long.MAX_VALUE);
    }

    long address() { return CudaOps.address(words); }

    /** The words as the kernels left them; waits for the stream. */
    long[] read() {
        int n = Math.toIntExact(words.numel());
        long[] out = new long[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) n * Long.BYTES, Long.BYTES);
            CudaDriver.memcpyDtoHAsync(host, address(), (long) n * Long.BYTES, stream.handle());
            stream.synchronize();
            MemorySegment.copy(host, ValueLayout.JAVA_LONG, 0, out, 0, n);
        }
        return out;
    }

    /**
     * For a bad-index record: the smallest position a kernel reported, or -1 when every index
     * was in range. The flag is the low half of word 0 and the reserved half stays 0, so the
     * word is nonzero exactly when the flag is set.
     */
    long badPosition() {
        long[] w = read();
        return w[0] != 0 ? w[1] : -1;
    }

    @Override
    public void close() { words.close(); }
}

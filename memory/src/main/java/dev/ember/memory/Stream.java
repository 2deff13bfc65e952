package dev.ember.memory;

import dev.ember.ffi.CudaDriver;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A CUDA stream: an ordered queue of device work. Each device has a default stream (the
 * legacy NULL stream, handle 0) and any number of created ones, which are non-blocking
 * (they do not synchronise with the legacy stream), as PyTorch creates its streams.
 *
 * <p>Each thread has a current stream per device, the default stream until changed:
 * <pre>{@code
 * try (var _ = Stream.use(side)) {
 *     // work launched here goes to `side`
 * }
 * }</pre>
 * which is what {@code with torch.cuda.stream(side):} does.
 *
 * <p>A created stream owns its CUDA object and is destroyed by {@link #close()}; closing the
 * default stream does nothing. Closing waits for the stream's work first: the caching
 * allocator keeps blocks under the stream's handle, and the driver may give that handle to
 * a later stream, which must not find memory that old work is still using.
 */
public final class Stream implements AutoCloseable {
    private static final ConcurrentMap<Device, Stream> DEFAULT_STREAMS = new ConcurrentHashMap<>();
    /** Per thread, the current stream of each CUDA device indexed by ordinal; null means default. */
    private static final ThreadLocal<Stream[]> CURRENT = ThreadLocal.withInitial(() -> new Stream[0]);

    private final Device device;
    private final int priority;
    private final boolean owned;
    private final long handle;
    private volatile boolean closed;

    private Stream(Device device, long handle, int priority, boolean owned) {
        this.device = device;
        this.handle = handle;
        this.priority = priority;
        this.owned = owned;
    }

    /** The device's legacy default stream (handle 0). */
    public static Stream defaultStream(Device device) {
        requireCuda(device);
        return DEFAULT_STREAMS.computeIfAbsent(device, d -> new Stream(d, 0L, 0, false));
    }

    /** A new non-blocking stream on the device with the default priority (0). */
    public static Stream create(Device device) {
        return create(device, 0);
    }

    /**
     * A new non-blocking stream with a priority; as in CUDA, lower numbers run first and the
     * driver clamps values outside the device's range.
     */
    public static Stream create(Device device, int priority) {
        requireCuda(device);
        device.makeCurrent();
        long handle = CudaDriver.streamCreateWithPriority(CudaDriver.STREAM_NON_BLOCKING, priority);
        return new Stream(device, handle, priority, true);
    }

    /** This thread's current stream on the device: the one set by {@link #use}, else the default. */
    public static Stream current(Device device) {
        requireCuda(device);
        Stream[] current = CURRENT.get();
        int i = device.index();
        Stream s = i < current.length ? current[i] : null;
        return s != null ? s : defaultStream(device);
    }

    /** Makes {@code stream} current for its device on this thread until the guard is closed. */
    public static Guard use(Stream stream) {
        Objects.requireNonNull(stream, "stream");
        stream.requireOpen();
        int i = stream.device.index();
        Stream[] current = CURRENT.get();
        if (i >= current.length) {
            current = Arrays.copyOf(current, i + 1);
            CURRENT.set(current);
        }
        Guard guard = new Guard(Thread.currentThread(), i, current[i]);
        current[i] = stream;
        return guard;
    }

    public Device device() {
        return device;
    }

    /** The driver's CUstream handle; 0 for the legacy default stream. */
    public long handle() {
        requireOpen();
        return handle;
    }

    public int priority() {
        return priority;
    }

    public boolean isDefault() {
        return !owned;
    }

    /** Blocks until all work queued on this stream has finished. */
    public void synchronize() {
        requireOpen();
        device.makeCurrent();
        CudaDriver.streamSynchronize(handle);
    }

    /** True when all work queued on this stream has finished; never blocks. */
    public boolean query() {
        requireOpen();
        device.makeCurrent();
        return CudaDriver.streamQuery(handle);
    }

    /** Makes later work on this stream wait until {@code event} has completed. */
    public void waitEvent(Event event) {
        requireOpen();
        device.makeCurrent();
        CudaDriver.streamWaitEvent(handle, event.handle());
    }

    /** Makes later work on this stream wait for the work queued on {@code other} so far. */
    public void waitStream(Stream other) {
        if (other.equals(this)) {
            return;
        }
        try (Event marker = Event.create(other.device)) {
            marker.record(other);
            waitEvent(marker);
        }
    }

    /** Records a new timing-disabled event on this stream and returns it; the caller closes it. */
    public Event recordEvent() {
        Event event = Event.create(device);
        event.record(this);
        return event;
    }

    @Override
    public void close() {
        if (!owned || closed) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            device.makeCurrent();
            CudaDriver.streamSynchronize(handle);
            CudaDriver.streamDestroy(handle);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("Stream on " + device + " is closed");
        }
    }

    private static void requireCuda(Device device) {
        Objects.requireNonNull(device, "device");
        if (!device.isCuda()) {
            throw new IllegalArgumentException("Streams exist only on CUDA devices, not on " + device);
        }
    }

    @Override
    public boolean equals(Object o) {
        // Handles are unique per live stream, and the default stream's 0 is told apart by device.
        return o instanceof Stream s && s.device.equals(device) && s.handle == handle && s.owned == owned;
    }

    @Override
    public int hashCode() {
        return device.hashCode() * 31 + Long.hashCode(handle);
    }

    @Override
    public String toString() {
        return owned ? "Stream(" + device + ", 0x" + Long.toHexString(handle) + ", priority " + priority + ")"
                : "Stream(" + device + ", default)";
    }

    /** Restores the previous current stream when closed; obtained from {@link Stream#use}. */
    public static final class Guard implements AutoCloseable {
        private final Thread thread;
        private final int deviceIndex;
        private final Stream previous;
        private boolean closed;

        private Guard(Thread thread, int deviceIndex, Stream previous) {
            this.thread = thread;
            this.deviceIndex = deviceIndex;
            this.previous = previous;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("A Stream.use guard must be closed on the thread that opened it");
            }
            closed = true;
            CURRENT.get()[deviceIndex] = previous;
        }
    }
}

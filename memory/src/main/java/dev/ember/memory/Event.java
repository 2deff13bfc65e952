package dev.ember.memory;

import dev.ember.ffi.CudaDriver;

import java.util.Objects;

/**
 * A CUDA event: a marker recorded into a stream that completes when the work queued before
 * it has run. Used to order streams ({@link Stream#waitEvent}), to wait on the host, and, when
 * created with timing, to measure GPU time between two events. Owns its CUDA object.
 */
public final class Event implements AutoCloseable {
    private final Device device;
    private final boolean timing;
    private long handle;
    private boolean recorded;

    private Event(Device device, long handle, boolean timing) {
        this.device = device;
        this.handle = handle;
        this.timing = timing;
    }

    /** A new event without timing, like {@code torch.cuda.Event()}. */
    public static Event create(Device device) {
        return create(device, false);
    }

    /** A new event; with {@code enableTiming} it can be used in {@link #elapsedTime}. */
    public static Event create(Device device, boolean enableTiming) {
        Objects.requireNonNull(device, "device");
        if (!device.isCuda()) {
            throw new IllegalArgumentException("Events exist only on CUDA devices, not on " + device);
        }
        device.makeCurrent();
        long handle = CudaDriver.eventCreate(enableTiming ? CudaDriver.EVENT_DEFAULT : CudaDriver.EVENT_DISABLE_TIMING);
        return new Event(device, handle, enableTiming);
    }

    public Device device() {
        return device;
    }

    public boolean isTiming() {
        return timing;
    }

    /** The driver's CUevent handle. */
    public synchronized long handle() {
        requireOpen();
        return handle;
    }

    /** Records this event on the calling thread's current stream of its device. */
    public void record() {
        record(Stream.current(device));
    }

    /** Records this event on {@code stream}: it completes once the work queued there so far has run. */
    public synchronized void record(Stream stream) {
        requireOpen();
        if (!stream.device().equals(device)) {
            throw new IllegalArgumentException("Event on " + device + " cannot be recorded on a stream of "
                    + stream.device());
        }
        device.makeCurrent();
        CudaDriver.eventRecord(handle, stream.handle());
        recorded = true;
    }

    /** Blocks until the event has completed; returns at once if it was never recorded. */
    public void synchronize() {
        long h = handle();
        device.makeCurrent();
        CudaDriver.eventSynchronize(h);
    }

    /** True when the event has completed (or was never recorded); never blocks. */
    public boolean query() {
        long h = handle();
        device.makeCurrent();
        return CudaDriver.eventQuery(h);
    }

    /** Milliseconds of GPU time from this event to {@code end}; both must be timing events and recorded. */
    public float elapsedTime(Event end) {
        if (!timing || !end.timing) {
            throw new IllegalStateException("elapsedTime needs both events created with enableTiming = true");
        }
        synchronized (this) {
            if (!recorded || !end.recorded) {
                throw new IllegalStateException("elapsedTime needs both events recorded first");
            }
        }
        long start = handle();
        long stop = end.handle();
        device.makeCurrent();
        return CudaDriver.eventElapsedTime(start, stop);
    }

    @Override
    public synchronized void close() {
        if (handle == 0) {
            return;
        }
        device.makeCurrent();
        CudaDriver.eventDestroy(handle);
        handle = 0;
    }

    private void requireOpen() {
        if (handle == 0) {
            throw new IllegalStateException("Event on " + device + " is closed");
        }
    }

    @Override
    public String toString() {
        return "Event(" + device + (timing ? ", timing" : "") + ")";
    }
}

package dev.ember.memory;

/**
 * The event operations the caching allocators need, on raw handles. An event recorded on a
 * stream completes once the work queued there before it has run; events on one stream
 * complete in the order they were recorded.
 */
public interface RawEvents {
    /** A new event without timing. */
    long createEvent();

    /** Records {@code event} on {@code stream}, replacing any earlier recording. */
    void recordEvent(long event, long stream);

    /** True when the event has completed (or was never recorded); never blocks. */
    boolean eventDone(long event);

    /** Blocks until the event has completed. */
    void synchronizeEvent(long event);

    void destroyEvent(long event);
}

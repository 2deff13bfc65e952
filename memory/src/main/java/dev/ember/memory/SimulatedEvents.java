package dev.ember.memory;

/**
 * {@link RawEvents} answered by a simulated device's or host's {@link SimulatedStreams}, whose
 * events the test completes. Both simulated raw layers share these forwarding methods.
 */
interface SimulatedEvents extends RawEvents {
    /** The streams whose events this layer records. */
    SimulatedStreams streams();

    @Override
    default long createEvent() { return streams().createEvent(); }

    @Override
    default void recordEvent(long event, long stream) { streams().recordEvent(event, stream); }

    @Override
    default boolean eventDone(long event) { return streams().eventDone(event); }

    @Override
    default void synchronizeEvent(long event) { streams().synchronizeEvent(event); }

    @Override
    default void destroyEvent(long event) { streams().destroyEvent(event); }
}

package dev.ember.memory;

import java.util.HashMap;
import java.util.Map;

/**
 * Streams and events in plain Java, for {@link SimulatedDevice} and {@link SimulatedHost}.
 * Nothing runs by itself: each stream counts the events recorded on it and the test says
 * how far the stream has progressed ({@link #completeNext}, {@link #completeAll}). As on a
 * GPU, events on one stream complete in recording order. Thread-safe.
 */
public final class SimulatedStreams implements RawEvents {
    private static final long FIRST_EVENT_HANDLE = 0xE000_0000L;

    /** Recorded and completed event counts of one stream. */
    private static final class Progress {
        long recorded;
        long completed;
    }

    /** Where an event was last recorded; {@code sequence} 0 means never recorded. */
    private static final class EventState {
        long stream;
        long sequence;
    }

    private final Map<Long, Progress> streams = new HashMap<>();
    private final Map<Long, EventState> events = new HashMap<>();
    private long nextEventHandle = FIRST_EVENT_HANDLE;
    private long eventsCreated;

    @Override
    public synchronized long createEvent() {
        long handle = nextEventHandle++;
        events.put(handle, new EventState());
        eventsCreated++;
        return handle;
    }

    @Override
    public synchronized void recordEvent(long event, long stream) {
        EventState state = event(event, "record");
        Progress p = progress(stream);
        p.recorded++;
        state.stream = stream;
        state.sequence = p.recorded;
    }

    @Override
    public synchronized boolean eventDone(long event) {
        EventState state = event(event, "query");
        return state.sequence == 0 || progress(state.stream).completed >= state.sequence;
    }

    /** Waiting on the host for an event means the stream has run at least that far. */
    @Override
    public synchronized void synchronizeEvent(long event) {
        EventState state = event(event, "synchronize");
        if (state.sequence != 0) {
            Progress p = progress(state.stream);
            p.completed = Math.max(p.completed, state.sequence);
        }
    }

    @Override
    public synchronized void destroyEvent(long event) {
        event(event, "destroy");
        events.remove(event);
    }

    /** Completes the oldest pending event on {@code stream}; false when none is pending. */
    public synchronized boolean completeNext(long stream) {
        Progress p = progress(stream);
        if (p.completed == p.recorded) {
            return false;
        }
        p.completed++;
        return true;
    }

    /** Completes every event recorded on {@code stream} so far. */
    public synchronized void completeAll(long stream) {
        Progress p = progress(stream);
        p.completed = p.recorded;
    }

    /** Completes every event recorded on every stream so far. */
    public synchronized void completeAll() {
        for (Progress p : streams.values()) {
            p.completed = p.recorded;
        }
    }

    /** How many events have been recorded on {@code stream}; the next one gets this number plus one. */
    public synchronized long recordedCount(long stream) {
        return progress(stream).recorded;
    }

    /** How many of the events recorded on {@code stream} have completed. */
    public synchronized long completedCount(long stream) {
        return progress(stream).completed;
    }

    /** Events created and not yet destroyed. */
    public synchronized int liveEvents() {
        return events.size();
    }

    public synchronized long eventsCreated() {
        return eventsCreated;
    }

    private Progress progress(long stream) {
        return streams.computeIfAbsent(stream, s -> new Progress());
    }

    private EventState event(long handle, String operation) {
        EventState state = events.get(handle);
        if (state == null) {
            throw new IllegalStateException("Cannot " + operation + " unknown or destroyed event 0x"
                    + Long.toHexString(handle));
        }
        return state;
    }
}

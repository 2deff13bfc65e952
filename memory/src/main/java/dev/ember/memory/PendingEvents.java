package dev.ember.memory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Events recorded on behalf of freed memory that other streams still use, kept per stream in
 * recording order. Since a stream completes its events in that order, polling a stream stops
 * at its first unfinished event. Completed events go back to a pool, as creating events costs
 * a driver call. Not thread-safe: the owning allocator's lock guards it.
 *
 * @param <T> what an event was recorded for (a block); told back when the event completes
 */
final class PendingEvents<T> {
    private record Pending<T>(long event, T owner) {
    }

    private final RawEvents raw;
    private final Map<Long, ArrayDeque<Pending<T>>> byStream = new HashMap<>();
    private final ArrayList<Long> idleEvents = new ArrayList<>();
    private int outstanding;

    PendingEvents(RawEvents raw) {
        this.raw = raw;
    }

    /** Records an event on {@code stream} that completes {@code owner}'s use there. */
    void record(long stream, T owner) {
        long event = idleEvents.isEmpty() ? raw.createEvent() : idleEvents.removeLast();
        try {
            raw.recordEvent(event, stream);
        } catch (RuntimeException e) {
            idleEvents.add(event);
            throw e;
        }
        byStream.computeIfAbsent(stream, s -> new ArrayDeque<>()).addLast(new Pending<>(event, owner));
        outstanding++;
    }

    /** Events recorded and not yet seen complete. */
    int outstanding() {
        return outstanding;
    }

    /** Tells {@code completed} about every event that has completed, without blocking. */
    void poll(Consumer<T> completed) {
        if (outstanding == 0) {
            return;
        }
        Iterator<ArrayDeque<Pending<T>>> queues = byStream.values().iterator();
        while (queues.hasNext()) {
            ArrayDeque<Pending<T>> queue = queues.next();
            while (!queue.isEmpty() && raw.eventDone(queue.peekFirst().event())) {
                retire(queue.pollFirst(), completed);
            }
            if (queue.isEmpty()) {
                queues.remove();
            }
        }
    }

    /** Waits for every outstanding event and tells {@code completed} about each. */
    void drain(Consumer<T> completed) {
        for (ArrayDeque<Pending<T>> queue : byStream.values()) {
            while (!queue.isEmpty()) {
                raw.synchronizeEvent(queue.peekFirst().event());
                retire(queue.pollFirst(), completed);
            }
        }
        byStream.clear();
    }

    /** Destroys the pooled events that nothing waits on. */
    void destroyIdleEvents() {
        while (!idleEvents.isEmpty()) {
            raw.destroyEvent(idleEvents.removeLast());
        }
    }

    private void retire(Pending<T> pending, Consumer<T> completed) {
        outstanding--;
        idleEvents.add(pending.event());
        completed.accept(pending.owner());
    }
}

package dev.ember.memory;

import java.util.Arrays;

/**
 * The streams, besides its own, that a block has been used on. Almost always empty or tiny,
 * so a linear array beats a hash set and costs nothing for blocks never shared.
 */
final class StreamSet {
    private long[] streams = new long[2];
    private int size;

    /** Adds {@code stream}; false when it was already present. */
    boolean add(long stream) {
        for (int i = 0; i < size; i++) {
            if (streams[i] == stream) {
                return false;
            }
        }
        if (size == streams.length) {
            streams = Arrays.copyOf(streams, size * 2);
        }
        streams[size++] = stream;
        return true;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    long get(int i) {
        return streams[i];
    }

    void clear() {
        size = 0;
    }
}

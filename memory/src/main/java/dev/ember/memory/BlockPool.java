package dev.ember.memory;

import java.util.Comparator;
import java.util.TreeSet;

/**
 * The free blocks of one size class, ordered by (stream, size, address) as in PyTorch, so
 * the best fit for a stream is the first block at or after (stream, size). A block's key
 * fields must not change while it is in the pool.
 */
final class BlockPool {
    private static final Comparator<Block> ORDER = (a, b) -> {
        if (a.stream != b.stream) {
            return Long.compare(a.stream, b.stream);
        }
        if (a.size != b.size) {
            return Long.compare(a.size, b.size);
        }
        return Long.compare(a.address, b.address);
    };

    final boolean small;
    private final TreeSet<Block> blocks = new TreeSet<>(ORDER);
    /** A search key, reused so that a lookup allocates nothing; guarded by the allocator's lock. */
    private final Block probe;

    BlockPool(boolean small) {
        this.small = small;
        this.probe = new Block(null, new Segment(0, 0, 0, small), 0, 0);
    }

    /** The smallest block on {@code stream} holding at least {@code size} bytes, or null. */
    Block bestFit(long stream, long size) {
        probe.stream = stream;
        probe.size = size;
        Block found = blocks.ceiling(probe);
        return found != null && found.stream == stream ? found : null;
    }

    void add(Block block) {
        blocks.add(block);
    }

    void remove(Block block) {
        blocks.remove(block);
    }

    Iterable<Block> blocks() {
        return blocks;
    }

    int size() {
        return blocks.size();
    }
}

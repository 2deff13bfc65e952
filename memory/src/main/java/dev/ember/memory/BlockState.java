package dev.ember.memory;

/** What a block in a {@link MemorySnapshot} is doing, with PyTorch's snapshot names. */
public enum BlockState {
    /** Handed out and not freed. */
    ALLOCATED("active_allocated"),
    /** Freed, but another stream that used it has not yet reached the event recorded at free time. */
    PENDING_FREE("active_pending_free"),
    /** In the pool, ready for reuse. */
    FREE("inactive");

    private final String jsonName;

    BlockState(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }
}

package dev.ember.nn.io;

/**
 * A state dict that does not fit the model it is loaded into; the message lists every missing key,
 * unexpected key and size mismatch at once, worded as PyTorch's load_state_dict words them.
 */
public class StateDictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient StateDictCheck check;

    public StateDictException(String message, StateDictCheck check) {
        super(message);
        this.check = check;
    }

    /** The comparison that failed, for callers that want the keys rather than the text. */
    public StateDictCheck check() { return check; }
}

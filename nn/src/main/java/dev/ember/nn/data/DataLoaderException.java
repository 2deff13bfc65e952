package dev.ember.nn.data;

/**
 * Loading a batch failed (on a worker thread, or on the caller's when there are no workers).
 * The original exception is the cause; the message says which batch and which examples.
 */
public class DataLoaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataLoaderException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.ember.nn.data;

import java.io.IOException;

/**
 * An IDX file that is truncated, corrupt or not IDX at all. The message names the file and what
 * was expected there, so a damaged download can be told apart from a wrong path.
 */
public class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public IdxFormatException(String source, String problem) {
        super(source + ": " + problem);
    }

    public IdxFormatException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}

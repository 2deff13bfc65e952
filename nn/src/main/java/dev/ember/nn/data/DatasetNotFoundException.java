package dev.ember.nn.data;

import java.io.IOException;
import java.io.UncheckedIOException;

/** A data set's files are not where they were looked for; the message says which and how to get them. */
public class DatasetNotFoundException extends UncheckedIOException {
    private static final long serialVersionUID = 1L;

    public DatasetNotFoundException(String message, IOException cause) {
        super(message, cause);
    }
}

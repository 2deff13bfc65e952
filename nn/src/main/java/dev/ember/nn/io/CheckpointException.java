package dev.ember.nn.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be read: too short, truncated, not safetensors, or with a header
 * that contradicts itself. The message names the file and the problem; nothing from a bad file is
 * trusted far enough to touch native memory or to size an allocation before it has been checked.
 */
public class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String problem;

    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The file that could not be read. */
    public Path file() { return file; }

    /** What is wrong with it, without the file name. */
    public String problem() { return problem; }
}

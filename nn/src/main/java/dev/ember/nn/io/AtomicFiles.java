package dev.ember.nn.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Replaces a file all at once or not at all. The content goes to a temporary file in the target's
 * directory (the same file system, so the final rename cannot turn into a copy), is forced to disk,
 * and is then renamed over the target atomically. A reader therefore sees either the old file or
 * the complete new one; a failure or a crash before the rename leaves the old file as it was; and
 * on any failure the temporary file is deleted. Only a process killed outright can leave a
 * temporary file behind, under a hidden name ({@code .NAME.RANDOM.tmp}), never a partial file
 * under the target's name.
 */
final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Writes the file's content into an open channel positioned at 0. */
    @FunctionalInterface
    interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {}

    static void write(Path target, Content content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temp = null;
        try {
            temp = createTemp(directory, absolute.getFileName().toString());
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                content.writeTo(channel);
                // the data must be on disk before the rename is: otherwise a power cut could
                // leave the new name pointing at a file whose blocks were never written
                channel.force(true);
            }
            Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable failure) {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    failure.addSuppressed(e);
                }
            }
            throw failure;
        }
        syncDirectory(directory);
    }

    /**
     * Creates a new, empty file next to the target. Created with CREATE_NEW rather than
     * Files.createTempFile so that it gets the permissions an ordinary new file would (the umask's),
     * not owner-only ones that the rename would then carry over to the checkpoint.
     */
    private static Path createTemp(Path directory, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            byte[] suffix = new byte[6];
            RANDOM.nextBytes(suffix);
            Path temp = directory.resolve("." + name + "." + HexFormat.of().formatHex(suffix) + ".tmp");
            try {
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException taken) {
                if (attempt == 10) throw taken;
            }
        }
    }

    /**
     * Makes the rename itself durable. Best effort: some platforms (Windows) cannot open a
     * directory as a channel, and there the rename is still atomic, only its durability across a
     * power cut is up to the file system.
     */
    private static void syncDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // see above: the checkpoint is already complete under its name
        }
    }
}

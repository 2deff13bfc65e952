package dev.ember.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A save that fails at any point leaves the previous checkpoint intact and no temporary file behind. */
class AtomicSaveTest {
    @TempDir
    Path dir;

    @Test
    void failureMidWriteKeepsTheOldFileAndRemovesTheTemporary() throws IOException {
        Path target = dir.resolve("model.safetensors");
        byte[] old = saveOld(target);
        for (Throwable failure : List.of(new IOException("disk full"), new IllegalStateException("tensor freed"),
                new OutOfMemoryError("simulated"))) {
            Throwable thrown = assertThrows(Throwable.class, () -> AtomicFiles.write(target, channel -> {
                channel.write(ByteBuffer.wrap(new byte[1000])); // half a file, then the failure
                throwUnchecked(failure);
            }));
            assertSame(failure, thrown);
            assertArrayEquals(old, Files.readAllBytes(target), "the previous checkpoint survives " + failure);
            assertEquals(List.of(target), listDir(), "no temporary file is left after " + failure);
        }
    }

    @Test
    void successReplacesTheFileAndLeavesNothingElse() throws IOException {
        Path target = dir.resolve("model.safetensors");
        saveOld(target);
        try (Tensor t = Tensor.full(3, 4)) {
            Safetensors.save(Map.of("new", t), target);
        }
        assertEquals(List.of(target), listDir());
        assertEquals(List.of("new"), List.copyOf(Safetensors.load(target).keySet()));
    }

    @Test
    void aClosedTensorFailsTheSaveWithoutTouchingTheOldFile() throws IOException {
        Path target = dir.resolve("model.safetensors");
        byte[] old = saveOld(target);
        Tensor good = Tensor.ones(3), closed = Tensor.ones(2);
        closed.close();
        assertThrows(IllegalArgumentException.class, () -> Safetensors.save(Map.of("a", good, "b", closed), target));
        good.close();
        assertArrayEquals(old, Files.readAllBytes(target));
        assertEquals(List.of(target), listDir());
    }

    @Test
    void failingRenameRemovesTheTemporary() throws IOException {
        // the target is a non-empty directory: the whole file is written, then the rename fails
        Path target = dir.resolve("taken");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "still here");
        try (Tensor t = Tensor.ones(5)) {
            assertThrows(IOException.class, () -> Safetensors.save(Map.of("x", t), target));
        }
        assertEquals(List.of(target), listDir());
        assertEquals("still here", Files.readString(target.resolve("keep.txt")));
    }

    @Test
    void missingDirectoryFailsCleanly() {
        try (Tensor t = Tensor.ones(5)) {
            assertThrows(IOException.class, () -> Safetensors.save(Map.of("x", t), dir.resolve("no/such/dir/x.safetensors")));
        }
    }

    @Test
    void readOnlyDirectoryKeepsTheOldFile() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("ro"));
        Path target = sub.resolve("model.safetensors");
        byte[] old = saveOld(target);
        try {
            Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("r-x------"));
        } catch (UnsupportedOperationException noPosix) {
            assumeFalse(true, "no POSIX permissions here");
        }
        try (Tensor t = Tensor.ones(5)) {
            assumeFalse(Files.isWritable(sub), "running as a user (root) that writes to read-only directories");
            assertThrows(IOException.class, () -> Safetensors.save(Map.of("x", t), target));
            assertArrayEquals(old, Files.readAllBytes(target));
            try (Stream<Path> files = Files.list(sub)) {
                assertEquals(List.of(target), files.toList());
            }
        } finally {
            Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void concurrentReadersOnlyEverSeeCompleteFiles() throws Exception {
        Path target = dir.resolve("live.safetensors");
        try (Tensor small = Tensor.full(1, 3); Tensor large = Tensor.full(2, 5000)) {
            Safetensors.save(Map.of("v", small), target);
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            // a flag, not interrupt(): interrupting a thread inside FileChannel.read closes the channel
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger reads = new AtomicInteger();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) {
                        try (Checkpoint c = Safetensors.loadCheckpoint(target)) {
                            long n = c.tensors().get("v").numel();
                            if (n != 3 && n != 5000) throw new AssertionError("saw a tensor of " + n + " elements");
                        }
                        reads.incrementAndGet();
                    }
                } catch (IOException e) {
                    readerFailure.set(new UncheckedIOException(e));
                } catch (Throwable t) {
                    readerFailure.set(t);
                }
            });
            for (int i = 0; i < 60; i++) Safetensors.save(Map.of("v", i % 2 == 0 ? large : small), target);
            stop.set(true);
            reader.join();
            if (readerFailure.get() != null) throw new AssertionError("a reader saw a partial file", readerFailure.get());
            assertTrue(reads.get() > 0);
        }
        assertEquals(List.of(target), listDir());
    }

    private byte[] saveOld(Path target) throws IOException {
        try (Tensor t = Tensor.arange(10)) {
            Safetensors.save(Map.of("old", t), Map.of("version", "1"), target);
        }
        assertFalse(Files.readAllBytes(target).length == 0);
        assertTrue(Files.exists(target));
        return Files.readAllBytes(target);
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void throwUnchecked(Throwable t) throws T {
        throw (T) t;
    }
}

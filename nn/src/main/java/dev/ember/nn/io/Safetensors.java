package dev.ember.nn.io;

import dev.ember.tensor.Tensor;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format,
 * so checkpoints move freely between Ember and Python tools:
 *
 * <pre>
 * [8 bytes: N, little-endian u64][N bytes: JSON header, space-padded][data buffer]
 * header: {"__metadata__": {str: str}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
 * </pre>
 *
 * <p>Files are written exactly as the reference implementation writes them (tensors laid out by
 * descending dtype and then by name, the same JSON text, the same padding), metadata keys sorted,
 * and atomically: a failed or interrupted save leaves any previous file intact. Reading checks the
 * whole header against the file's size before allocating anything, and a bad file of any kind fails
 * with a {@link CheckpointException} naming the file and the problem.
 *
 * <p>Tensors are written from host memory (a CUDA tensor through a host copy); a non-contiguous tensor
 * is written in row-major order.
 * Loaded tensors are new contiguous tensors, owned by the caller (or by the current
 * {@code Ember.scope()}, as any new tensor).
 */
public final class Safetensors {
    /** The largest header accepted, as in the reference implementation: a guard against absurd length fields. */
    public static final long MAX_HEADER_BYTES = 100_000_000;

    private Safetensors() {}

    // ---------------------------------------------------------------- saving

    /** Saves {@code tensors} to {@code file}, replacing it atomically. */
    public static void save(Map<String, Tensor> tensors, Path file) throws IOException {
        save(tensors, Map.of(), file);
    }

    /**
     * Saves {@code tensors} and string {@code metadata} (stored as {@code __metadata__}; omitted when
     * empty) to {@code file}, replacing it atomically.
     *
     * @throws IllegalArgumentException for a null or reserved name, a null or closed tensor, a
     *     string that cannot be encoded or a header over {@link #MAX_HEADER_BYTES}; checked before
     *     the file system is touched
     */
    public static void save(Map<String, Tensor> tensors, Map<String, String> metadata, Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        List<Map.Entry<String, Tensor>> ordered = dataOrder(tensors);
        checkMetadata(metadata);
        List<TensorEntry> entries = new ArrayList<>(ordered.size());
        long offset = 0, largest = 0;
        for (Map.Entry<String, Tensor> e : ordered) {
            Tensor t = e.getValue();
            long bytes = Math.multiplyExact(t.numel(), (long) t.dtype().itemSize());
            entries.add(new TensorEntry(e.getKey(), t.dtype(), t.shape(), offset, offset + bytes));
            offset = Math.addExact(offset, bytes);
            largest = Math.max(largest, bytes);
        }
        byte[] header = HeaderWriter.write(entries, metadata);
        if (header.length > MAX_HEADER_BYTES) {
            // no reader, Ember's or the reference's, would accept it
            throw new IllegalArgumentException("the header for " + entries.size() + " tensors would be " + header.length
                    + " bytes, over the format's limit of " + MAX_HEADER_BYTES);
        }
        long dataBytes = offset, maxChunk = largest;
        AtomicFiles.write(file, channel -> {
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).flip();
            while (head.hasRemaining()) channel.write(head);
            try (TensorData data = new TensorData(maxChunk)) {
                for (Map.Entry<String, Tensor> e : ordered) data.write(channel, e.getValue());
            }
            if (channel.size() != 8 + header.length + dataBytes) {
                throw new IOException("wrote " + channel.size() + " bytes to " + file + " but expected "
                        + (8 + header.length + dataBytes));
            }
        });
    }

    /** The entries sorted as the reference writer lays them out: by descending dtype rank, then by name. */
    private static List<Map.Entry<String, Tensor>> dataOrder(Map<String, Tensor> tensors) {
        Objects.requireNonNull(tensors, "tensors");
        List<Map.Entry<String, Tensor>> entries = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null) throw new IllegalArgumentException("a tensor name is null");
            if (name.equals(HeaderParser.METADATA_KEY)) {
                throw new IllegalArgumentException("\"" + HeaderParser.METADATA_KEY + "\" is reserved for metadata and cannot name a tensor");
            }
            if (t == null) throw new IllegalArgumentException("tensor " + HeaderParser.quote(name) + " is null");
            if (t.isClosed()) throw new IllegalArgumentException("tensor " + HeaderParser.quote(name) + " was closed");
            entries.add(Map.entry(name, t));
        }
        entries.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(e -> -SafetensorsType.of(e.getValue().dtype()).rank)
                .thenComparing(Map.Entry::getKey, HeaderWriter::compareCodePoints));
        return entries;
    }

    private static void checkMetadata(Map<String, String> metadata) {
        Objects.requireNonNull(metadata, "metadata");
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("metadata keys and values must not be null: " + e);
            }
        }
    }

    // ---------------------------------------------------------------- loading

    /** The tensors of {@code file}, in the order its header lists them. */
    public static Map<String, Tensor> load(Path file) throws IOException {
        return new LinkedHashMap<>(loadCheckpoint(file).tensors());
    }

    /** The tensors and metadata of {@code file}. */
    public static Checkpoint loadCheckpoint(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Header header = readHeader(channel, file);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            long largest = 0;
            for (TensorEntry e : header.tensors()) largest = Math.max(largest, e.byteLength());
            try (TensorData data = new TensorData(largest)) {
                for (TensorEntry e : header.tensors()) {
                    Tensor t = Tensor.empty(e.dtype(), e.shape());
                    tensors.put(e.name(), t);
                    data.read(channel, header.dataStart() + e.begin(), t);
                }
            } catch (Throwable failure) {
                for (Tensor t : tensors.values()) t.close();
                if (failure instanceof EOFException eof) throw new CheckpointException(file, eof.getMessage(), eof);
                throw failure;
            }
            return new Checkpoint(tensors, header.metadata());
        }
    }

    /** The metadata of {@code file}, reading only its header. */
    public static Map<String, String> metadata(Path file) throws IOException {
        return header(file).metadata();
    }

    /** The checked header of {@code file}: names, dtypes, shapes and offsets, without reading the data. */
    public static Header header(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(channel, file);
        }
    }

    /**
     * Reads and checks the header. Every length is compared with the file's real size before it is
     * used to allocate, so a corrupt length field costs an exception, not memory.
     */
    private static Header readHeader(FileChannel channel, Path file) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new CheckpointException(file, "the file is " + size
                    + " bytes, too short for the 8-byte header length that starts a safetensors file");
        }
        ByteBuffer lengthField = readFully(channel, file, 0, 8).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthField.getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "the header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes: this is not a safetensors file, or it is corrupt");
        }
        if (headerLength > size - 8) {
            throw new CheckpointException(file, "the header length " + headerLength + " runs past the end of the file ("
                    + size + " bytes): the file is truncated or not a safetensors file");
        }
        ByteBuffer headerBytes = readFully(channel, file, 8, (int) headerLength);
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, "the header is not valid UTF-8", e);
        }
        Header header = HeaderParser.parse(json, file, headerLength);
        HeaderLayout.check(file, header, size - 8 - headerLength);
        return header;
    }

    private static ByteBuffer readFully(FileChannel channel, Path file, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new CheckpointException(file, "the file ended early (was it changed while being read?)");
            }
        }
        return buffer.flip();
    }
}

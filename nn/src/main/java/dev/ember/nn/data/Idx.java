package dev.ember.nn.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The contents of an IDX file (the format of MNIST and Fashion-MNIST): an element type, the
 * dimensions, and the elements as raw big-endian bytes. Files may be gzip'd or plain; gzip is
 * recognised by its magic number, not by the file name.
 *
 * <p>Layout: two zero bytes, a type code, the number of dimensions, one unsigned big-endian
 * 32-bit size per dimension, then the elements in row-major order. Anything that does not match
 * (a bad magic number, dimensions too large for a Java array, missing or extra data, a damaged
 * gzip stream) raises an {@link IdxFormatException} that names the file and what was expected.
 */
public final class Idx {
    /** The IDX element types, by their type code. */
    public enum Type {
        UBYTE(0x08, 1), BYTE(0x09, 1), SHORT(0x0B, 2), INT(0x0C, 4), FLOAT(0x0D, 4), DOUBLE(0x0E, 8);

        private final int code;
        private final int size;

        Type(int code, int size) {
            this.code = code;
            this.size = size;
        }

        /** The type byte in the file's header. */
        public int code() { return code; }

        /** Bytes per element. */
        public int size() { return size; }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) return t;
            }
            return null;
        }
    }

    /** Java arrays cannot quite reach Integer.MAX_VALUE elements on every VM. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;
    /**
     * Data up to this size is read into one array allocated up front. Beyond it the buffer grows
     * as data actually arrives, so a corrupt header claiming gigabytes cannot make a small file
     * allocate them.
     */
    private static final int UPFRONT_BYTES = 64 << 20;

    private final String source;
    private final Type type;
    private final int[] dims;
    private final byte[] data;

    private Idx(String source, Type type, int[] dims, byte[] data) {
        this.source = source;
        this.type = type;
        this.dims = dims;
        this.data = data;
    }

    /** Reads a gzip'd or plain IDX file. */
    public static Idx read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads a gzip'd or plain IDX stream to its end (the stream is not closed).
     *
     * @param source how to name the stream in error messages, e.g. its path or resource name
     */
    public static Idx read(InputStream in, String source) throws IOException {
        return parse(in, source, true);
    }

    /** Reads only the type and dimensions of a gzip'd or plain IDX file; {@link #data()} is empty. */
    public static Idx readHeader(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString(), false);
        }
    }

    /** Reads only the type and dimensions of an IDX stream; {@link #data()} is empty. */
    public static Idx readHeader(InputStream in, String source) throws IOException {
        return parse(in, source, false);
    }

    private static Idx parse(InputStream raw, String source, boolean withData) throws IOException {
        try {
            InputStream in = decompressed(raw, source);
            byte[] magic = readExactly(in, 4, source, "a 4-byte IDX header (0x00 0x00 type rank)");
            if (magic[0] != 0 || magic[1] != 0) {
                throw new IdxFormatException(source, String.format(
                        "not an IDX file: it must start with two zero bytes, found 0x%02x 0x%02x", magic[0], magic[1]));
            }
            Type type = Type.of(magic[2] & 0xFF);
            if (type == null) {
                throw new IdxFormatException(source, String.format("unknown IDX element type 0x%02x (expected one of"
                        + " 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)", magic[2]));
            }
            int rank = magic[3] & 0xFF;
            if (rank == 0) throw new IdxFormatException(source, "the header declares 0 dimensions (expected at least 1)");
            int[] dims = readDims(in, rank, source);
            long bytes = dataBytes(dims, type, source);
            if (!withData) return new Idx(source, type, dims, new byte[0]);
            byte[] data = readData(in, bytes, dims, type, 4 + 4L * rank, source);
            if (in.read() != -1) {
                throw new IdxFormatException(source, "unexpected bytes after the " + bytes
                        + " bytes of data that dims " + Arrays.toString(dims) + " call for");
            }
            return new Idx(source, type, dims, data);
        } catch (ZipException | EOFException e) {
            // GZIPInputStream reports damaged and cut-off streams this way; reading to the end above
            // is also what makes it check the CRC and length in the gzip trailer
            throw new IdxFormatException(source, "corrupt or truncated gzip data (" + e.getMessage() + ")", e);
        }
    }

    /** The stream itself, or a gunzipping view of it when it starts with the gzip magic number. */
    private static InputStream decompressed(InputStream raw, String source) throws IOException {
        InputStream in = raw.markSupported() ? raw : new BufferedInputStream(raw);
        in.mark(2);
        int b0 = in.read(), b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        return in;
    }

    private static int[] readDims(InputStream in, int rank, String source) throws IOException {
        byte[] b = readExactly(in, 4 * rank, source, rank + " dimension sizes of 4 bytes each");
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            long d = ((b[4 * i] & 0xFFL) << 24) | ((b[4 * i + 1] & 0xFF) << 16) | ((b[4 * i + 2] & 0xFF) << 8) | (b[4 * i + 3] & 0xFF);
            if (d > Integer.MAX_VALUE) {
                throw new IdxFormatException(source, "dimension " + i + " has size " + d + ", more than a Java array can hold");
            }
            dims[i] = (int) d;
        }
        return dims;
    }

    private static long dataBytes(int[] dims, Type type, String source) throws IdxFormatException {
        long bytes = type.size;
        for (int d : dims) {
            bytes *= d; // each factor is below 2^31 and the running product stays below MAX_BYTES, so no overflow
            if (bytes > MAX_BYTES) {
                throw new IdxFormatException(source, "dims " + Arrays.toString(dims) + " of " + type
                        + " need more bytes than a Java array can hold");
            }
        }
        return bytes;
    }

    private static byte[] readData(InputStream in, long bytes, int[] dims, Type type, long headerBytes, String source)
            throws IOException {
        int n = (int) bytes;
        byte[] buf = new byte[Math.min(n, UPFRONT_BYTES)];
        int have = 0;
        while (have < n) {
            if (have == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            int got = in.read(buf, have, buf.length - have);
            if (got < 0) {
                throw new IdxFormatException(source, "truncated: dims " + Arrays.toString(dims) + " of " + type + " need "
                        + n + " bytes of data after the " + headerBytes + "-byte header, but the data ends after " + have);
            }
            have += got;
        }
        return buf;
    }

    private static byte[] readExactly(InputStream in, int n, String source, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IdxFormatException(source, "truncated: expected " + what + ", found only " + b.length + " bytes");
        }
        return b;
    }

    /** Where this was read from (the path or resource name given). */
    public String source() { return source; }

    public Type type() { return type; }

    /** The size of each dimension. */
    public int[] dims() { return dims.clone(); }

    /** The number of elements, the product of the dims. */
    public long count() {
        long c = 1;
        for (int d : dims) c *= d;
        return c;
    }

    /**
     * The elements as raw bytes in file order (big-endian for multi-byte types). Not copied: the
     * array can be tens of megabytes, and this object is only a carrier for it.
     */
    public byte[] data() { return data; }

    /**
     * Checks that this holds unsigned bytes in {@code rank} dimensions, naming what it found
     * otherwise; returns this for chaining.
     *
     * @param what what the file should contain, for the message ("images", "labels")
     */
    public Idx expectUbyte(int rank, String what) throws IdxFormatException {
        if (type != Type.UBYTE) {
            throw new IdxFormatException(source, "expected " + what + " as unsigned bytes (type 0x08), found " + type);
        }
        if (dims.length != rank) {
            throw new IdxFormatException(source, "expected " + what + " in " + rank + " dimensions, found dims "
                    + Arrays.toString(dims));
        }
        return this;
    }

    @Override
    public String toString() {
        return "Idx(" + source + ", " + type + ", dims " + Arrays.toString(dims) + ")";
    }
}

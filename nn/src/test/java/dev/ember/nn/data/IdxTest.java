package dev.ember.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path tmp;

    /** A file of the tiny subset, as it is stored (gzip'd). */
    static byte[] resource(String name) throws IOException {
        try (InputStream in = IdxTest.class.getResourceAsStream("/fashion-mnist-tiny/" + name)) {
            if (in == null) throw new IOException("test resource fashion-mnist-tiny/" + name + " is missing");
            return in.readAllBytes();
        }
    }

    static byte[] gunzip(byte[] gz) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    static byte[] gzip(byte[] plain) throws IOException {
        var out = new ByteArrayOutputStream();
        try (var g = new GZIPOutputStream(out)) {
            g.write(plain);
        }
        return out.toByteArray();
    }

    /** An IDX header: magic, type, rank and the dims, big-endian, written here independently of Idx. */
    static byte[] header(int type, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        return b.array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }

    @Test
    void readsTheTinyImagesWithTheirHeaderAndPixels() throws IOException {
        byte[] plain = gunzip(resource("train-images-idx3-ubyte.gz"));
        ByteBuffer raw = ByteBuffer.wrap(plain); // big-endian, as IDX
        assertEquals(0x00000803, raw.getInt(0), "magic of an idx3 ubyte file");
        int n = raw.getInt(4), rows = raw.getInt(8), cols = raw.getInt(12);

        Path file = write("train-images-idx3-ubyte.gz", resource("train-images-idx3-ubyte.gz"));
        Idx idx = Idx.read(file);
        assertEquals(Idx.Type.UBYTE, idx.type());
        assertArrayEquals(new int[] {256, 28, 28}, idx.dims());
        assertArrayEquals(new int[] {n, rows, cols}, idx.dims());
        assertEquals(256L * 28 * 28, idx.count());
        assertArrayEquals(Arrays.copyOfRange(plain, 16, plain.length), idx.data());
        // a real image, not a blank: some pixels of the first one are lit
        boolean lit = false;
        for (int i = 0; i < 784; i++) lit |= idx.data()[i] != 0;
        assertTrue(lit, "the first image has some non-zero pixels");
        assertEquals(file.toString(), idx.source());
    }

    @Test
    void readsTheTinyLabels() throws IOException {
        Idx idx = Idx.read(write("t10k-labels-idx1-ubyte.gz", resource("t10k-labels-idx1-ubyte.gz")));
        assertArrayEquals(new int[] {64}, idx.dims());
        byte[] plain = gunzip(resource("t10k-labels-idx1-ubyte.gz"));
        assertEquals(0x00000801, ByteBuffer.wrap(plain).getInt(0));
        assertArrayEquals(Arrays.copyOfRange(plain, 8, plain.length), idx.data());
        for (byte label : idx.data()) assertTrue(label >= 0 && label < 10, "label " + label + " is a class");
    }

    @Test
    void readsPlainFilesAsWellAsGzipped() throws IOException {
        byte[] plain = gunzip(resource("t10k-labels-idx1-ubyte.gz"));
        Idx fromPlain = Idx.read(write("labels-plain", plain));
        Idx fromGzip = Idx.read(new ByteArrayInputStream(gzip(plain)), "in-memory");
        assertArrayEquals(fromPlain.data(), fromGzip.data());
        assertArrayEquals(fromPlain.dims(), fromGzip.dims());
    }

    @Test
    void readsOtherElementTypesAsRawBigEndianBytes() throws IOException {
        byte[] ints = ByteBuffer.allocate(12).putInt(1).putInt(-2).putInt(300).array();
        Idx idx = Idx.read(new ByteArrayInputStream(concat(header(0x0C, 3), ints)), "ints");
        assertEquals(Idx.Type.INT, idx.type());
        assertArrayEquals(ints, idx.data());
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> idx.expectUbyte(1, "labels"));
        assertTrue(e.getMessage().contains("ints") && e.getMessage().contains("unsigned bytes"), e.getMessage());
    }

    @Test
    void readsOnlyTheHeaderWhenAsked() throws IOException {
        Idx idx = Idx.readHeader(write("images.gz", resource("train-images-idx3-ubyte.gz")));
        assertArrayEquals(new int[] {256, 28, 28}, idx.dims());
        assertEquals(0, idx.data().length);
    }

    @Test
    void truncatedGzipFileFailsNamingTheFile() throws IOException {
        byte[] gz = resource("train-images-idx3-ubyte.gz");
        Path file = write("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedDataFailsSayingHowMuchWasExpected() throws IOException {
        byte[] plain = gunzip(resource("t10k-labels-idx1-ubyte.gz"));
        Path file = write("short-labels.gz", gzip(Arrays.copyOf(plain, plain.length - 10)));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("need 64 bytes") && e.getMessage().contains("ends after 54"), e.getMessage());
    }

    @Test
    void corruptGzipDataFailsCleanly() throws IOException {
        byte[] gz = resource("train-images-idx3-ubyte.gz");
        for (int i = gz.length / 3; i < gz.length / 3 + 64; i++) gz[i] ^= (byte) 0x5A;
        Path file = write("corrupt.gz", gz);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    @Test
    void corruptGzipTrailerIsCaught() throws IOException {
        byte[] gz = resource("t10k-labels-idx1-ubyte.gz");
        gz[gz.length - 6] ^= 1; // the CRC-32 of the trailer: the data inflates fine but does not check out
        Path file = write("crc.gz", gz);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains("gzip"), e.getMessage());
    }

    @Test
    void wrongMagicIsNotAnIdxFile() throws IOException {
        Path file = write("text.idx", "hello, world".getBytes());
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains("not an IDX file"), e.getMessage());
    }

    @Test
    void unknownElementTypeIsNamed() throws IOException {
        Path file = write("type.idx", concat(header(0x42, 1), new byte[1]));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains("0x42"), e.getMessage());
    }

    @Test
    void emptyAndHeaderOnlyFilesAreTruncated() throws IOException {
        Path empty = write("empty", new byte[0]);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(empty));
        assertTrue(e.getMessage().contains("4-byte IDX header"), e.getMessage());
        Path noDims = write("nodims", new byte[] {0, 0, 8, 3, 0, 0});
        e = assertThrows(IdxFormatException.class, () -> Idx.read(noDims));
        assertTrue(e.getMessage().contains("3 dimension sizes"), e.getMessage());
    }

    @Test
    void zeroRankIsRejected() throws IOException {
        Path file = write("rank0", new byte[] {0, 0, 8, 0, 1});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains("0 dimensions"), e.getMessage());
    }

    @Test
    void absurdDimsFailWithoutAllocatingThem() throws IOException {
        // 2^31 - 1 elements of 8 bytes: no Java array holds that
        Path huge = write("huge", header(0x0E, Integer.MAX_VALUE));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(huge));
        assertTrue(e.getMessage().contains("more bytes than a Java array can hold"), e.getMessage());
        // an unsigned size above 2^31 - 1
        Path negative = write("negative", header(0x08, -1));
        e = assertThrows(IdxFormatException.class, () -> Idx.read(negative));
        assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
        // 1.5 GB claimed by a tiny file: reported as truncated, and only what arrived is buffered
        Path big = write("big", concat(header(0x08, 1_500_000_000), new byte[10]));
        e = assertThrows(IdxFormatException.class, () -> Idx.read(big));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("ends after 10"), e.getMessage());
    }

    @Test
    void trailingBytesAreReported() throws IOException {
        Path file = write("long", concat(header(0x08, 2), new byte[] {1, 2, 3}));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().contains("unexpected bytes after the 2 bytes"), e.getMessage());
    }

    @Test
    void zeroSizedDimensionGivesNoData() throws IOException {
        Idx idx = Idx.read(new ByteArrayInputStream(header(0x08, 0, 28, 28)), "empty set");
        assertArrayEquals(new int[] {0, 28, 28}, idx.dims());
        assertEquals(0, idx.data().length);
    }
}

package dev.ember.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad file fails with a CheckpointException that names the file and the problem:
 * never another exception, a crash, or an allocation sized by an untrusted length.
 */
class SafetensorsCorruptFileTest {
    private static final String GOOD_ENTRY = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @TempDir
    Path dir;

    private int count;

    // ---------------------------------------------------------------- the length field

    @Test
    void filesTooShortForTheLengthField() throws IOException {
        assertCorrupt(raw(new byte[0]), "too short");
        assertCorrupt(raw(new byte[7]), "too short");
    }

    @Test
    void absurdOrOverlongHeaderLengths() throws IOException {
        assertCorrupt(withLength(-1, "{}"), "exceeds the limit");
        assertCorrupt(withLength(Long.MIN_VALUE, "{}"), "exceeds the limit");
        assertCorrupt(withLength(Safetensors.MAX_HEADER_BYTES + 1, "{}"), "exceeds the limit");
        assertCorrupt(withLength(Integer.MAX_VALUE, "{}"), "exceeds the limit");
        assertCorrupt(withLength(3, "{}"), "runs past the end");
        assertCorrupt(withLength(1000, "{\"a\":1}"), "runs past the end");
        assertCorrupt(withLength(0, ""), "malformed header JSON");
    }

    // ---------------------------------------------------------------- JSON syntax

    @Test
    void malformedJson() throws IOException {
        for (String header : new String[] {
            "", "   ", "[]", "{", "}", "{\"w\"}", "{\"w\":}", "{" + GOOD_ENTRY + ",}", "{" + GOOD_ENTRY + "}}",
            "{" + GOOD_ENTRY + "} x", "{'w':{}}", "{w:{}}", "{\"w\" {}}", "{\"w\":{\"dtype\":\"F32\",}}",
            "{\"w\":{\"dtype\":F32}}", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,8]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[-],\"data_offsets\":[0,8]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} /* c */",
            "{\"a\\x\":{}}", "{\"a\\u12\":{}}", "{\"a\\ud800\":{}}", "{\"a\\udc00\":{}}", "{\"a\\ud800\\u0041\":{}}",
            "{\"a\u0001\":{}}", "{\"unterminated", "{\"__metadata__\":[]}", "{\"__metadata__\":{\"k\":1}}",
            "{\"__metadata__\":{\"k\":null}}", "{\"__metadata__\":{\"k\":\"v\",}}", "{\"w\":null}", "{\"w\":[1]}",
            "\u0000{}", "{}\u0000",
        }) {
            assertCorrupt(file(header, 0), "malformed header JSON");
        }
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        byte[] bad = "{\"\u00e9\":{}}".getBytes(StandardCharsets.UTF_8);
        bad[2] = (byte) 0xFF;
        assertCorrupt(withLength(bad.length, bad, new byte[0]), "not valid UTF-8");
        byte[] lone = {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '{', '}', '}'}; // an encoded surrogate
        assertCorrupt(withLength(lone.length, lone, new byte[0]), "not valid UTF-8");
    }

    // ---------------------------------------------------------------- the schema

    @Test
    void schemaViolations() throws IOException {
        assertCorrupt(file("{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype 'F33'");
        assertCorrupt(file("{\"w\":{\"dtype\":\"I16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8), "Ember does not support");
        assertCorrupt(file("{\"w\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype");
        assertCorrupt(file("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "has no \"dtype\"");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "has no \"shape\"");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "has no \"data_offsets\"");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8), "unknown field");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "twice");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8), "must have 2 entries");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8), "must have 2 entries");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "negative value -2");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8), "negative value -8");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8), "too large");
        assertCorrupt(file("{" + GOOD_ENTRY + "," + GOOD_ENTRY + "}", 8), "duplicate tensor name \"w\"");
        assertCorrupt(file("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "duplicate key \"__metadata__\"");
        assertCorrupt(file("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0), "duplicate metadata key \"k\"");
    }

    // ---------------------------------------------------------------- the data layout

    @Test
    void shapeAndOffsetsDisagree() throws IOException {
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "needs 12 bytes");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "needs 16 bytes");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,8]}}", 8), "needs 4 bytes");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,8]}}", 8), "needs 0 bytes");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
                "too large to address");
        assertCorrupt(file("{\"w\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807],\"data_offsets\":[0,8]}}", 8), "needs");
    }

    @Test
    void offsetsOutsideTheBufferOrNotTilingIt() throws IOException {
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "outside the data buffer");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8), "outside the data buffer");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[9223372036854775799,"
                + "9223372036854775807]}}", 8), "outside the data buffer");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), "end before they begin");
        assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "no tensor covers bytes [0, 4)");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8), "overlap");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "overlap");
        assertCorrupt(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "no tensor covers bytes [4, 8)");
        assertCorrupt(file("{" + GOOD_ENTRY + "}", 9), "trailing bytes");
        assertCorrupt(file("{}", 1), "trailing bytes");
    }

    @Test
    void validEdgeCasesLoad() throws IOException {
        // what the reference accepts: zero-size tensors anywhere on a boundary, any entry order,
        // whitespace, escapes, unpadded headers
        Path f = file(" {\n \"b\" : {\"data_offsets\":[4,8], \"shape\":[1],\"dtype\":\"I32\"},\t\"e\":{\"dtype\":\"F64\","
                + "\"shape\":[3,0],\"data_offsets\":[4,4]},\"\\u0061\\/\\ud83d\\ude00\":{\"dtype\":\"I32\",\"shape\":[],"
                + "\"data_offsets\":[0,4]}, \"z\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[8,8]}}\r\n", 8);
        try (Checkpoint c = Safetensors.loadCheckpoint(f)) {
            assertEquals(java.util.List.of("b", "e", "a/\ud83d\ude00", "z"), java.util.List.copyOf(c.tensors().keySet()));
            assertEquals(DType.FLOAT64, c.tensors().get("e").dtype());
        }
    }

    @Test
    void booleansOtherThanZeroAndOneAreReadAsTrue() throws IOException {
        byte[] h = "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        Path f = withLength(h.length, h, new byte[] {0, 1, 2, (byte) 0xFF});
        try (Checkpoint c = Safetensors.loadCheckpoint(f); Tensor sum = c.tensors().get("m").sum()) {
            assertEquals(java.util.List.of(0L, 1L, 1L, 1L), Arrays.stream(c.tensors().get("m").toLongArray()).boxed().toList());
            assertEquals(3, sum.item(), "stored as 0 and 1, so sums count true values");
        }
    }

    @Test
    void hugeNamesAndNumbersAreCutShortInMessages() throws IOException {
        String name = "n".repeat(1_000_000);
        CheckpointException e = assertCorrupt(file("{\"" + name + "\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", 0),
                "unknown dtype 'X'");
        assertTrue(e.getMessage().length() < 1000, "message of " + e.getMessage().length() + " characters");
        String digits = "9".repeat(1_000_000);
        e = assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + digits + "],\"data_offsets\":[0,0]}}", 0), "too large");
        assertTrue(e.getMessage().length() < 1000, "message of " + e.getMessage().length() + " characters");
    }

    @Test
    void aLargeHeaderIsFineWhenTheFileReallyHasIt() throws IOException {
        String header = "{" + GOOD_ENTRY + "}" + " ".repeat(3_000_000);
        try (Checkpoint c = Safetensors.loadCheckpoint(file(header, 8))) {
            assertEquals(1, c.tensors().size());
        }
    }

    @Test
    void missingFileIsAnOrdinaryIoError() {
        assertThrows(NoSuchFileException.class, () -> Safetensors.load(dir.resolve("absent.safetensors")));
    }

    // ---------------------------------------------------------------- truncation and fuzzing

    @Test
    void everyTruncationOfAValidFileFailsCleanly() throws IOException {
        byte[] valid = validFile();
        for (int length = 0; length < valid.length; length++) {
            assertCorrupt(raw(Arrays.copyOf(valid, length)), "");
        }
    }

    @Test
    void randomMutationsEitherLoadOrFailCleanly() throws IOException {
        byte[] valid = validFile();
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long seed = System.nanoTime();
        Random r = new Random(seed);
        byte[] interesting = "\"{}[],:-09\\u e.".getBytes(StandardCharsets.US_ASCII);
        int loaded = 0, rejected = 0;
        for (int i = 0; i < 600; i++) {
            byte[] bytes = valid.clone();
            int kind = r.nextInt(6);
            switch (kind) {
                case 0 -> { // random bytes anywhere
                    for (int k = 1 + r.nextInt(3); k > 0; k--) bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
                }
                case 1 -> bytes[8 + r.nextInt(headerEnd - 8)] = interesting[r.nextInt(interesting.length)];
                case 2 -> bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length + 16)); // truncated or extended
                case 3 -> { // a wrong length field, near the truth or anywhere
                    long n = r.nextBoolean() ? headerEnd - 8 + r.nextInt(33) - 16 : r.nextLong();
                    ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(n);
                }
                case 4 -> { // a header byte removed, shifting the rest
                    int at = 8 + r.nextInt(headerEnd - 8);
                    byte[] shorter = new byte[bytes.length - 1];
                    System.arraycopy(bytes, 0, shorter, 0, at);
                    System.arraycopy(bytes, at + 1, shorter, at, bytes.length - at - 1);
                    bytes = shorter;
                }
                default -> bytes[8 + r.nextInt(headerEnd - 8)] ^= (byte) (1 << r.nextInt(8)); // one bit in the header
            }
            Path f = raw(bytes);
            try (Checkpoint c = Safetensors.loadCheckpoint(f)) {
                loaded++;
                for (Tensor t : c.tensors().values()) t.sum().close(); // the tensors are usable
            } catch (CheckpointException e) {
                rejected++;
                assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
            } catch (Throwable t) {
                fail("seed " + seed + ", mutation " + i + " (kind " + kind + ") threw " + t, t);
            }
        }
        assertTrue(loaded > 0 && rejected > 0, "loaded " + loaded + ", rejected " + rejected);
    }

    // ---------------------------------------------------------------- helpers

    private byte[] validFile() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (Tensor a = Tensor.arange(12).reshape(3, 4); Tensor f = a.to(DType.FLOAT32); Tensor h = a.to(DType.FLOAT16);
                Tensor b = a.gt(5); Tensor s = Tensor.scalar(DType.BFLOAT16, 1.5); Tensor e = Tensor.zeros(0, 2)) {
            tensors.put("layer.weight", f);
            tensors.put("layer.bias", h);
            tensors.put("mask", b);
            tensors.put("steps", a);
            tensors.put("scale", s);
            tensors.put("empty", e);
            Path file = dir.resolve("valid.safetensors");
            Safetensors.save(tensors, Map.of("format", "pt", "epoch", "3"), file);
            return Files.readAllBytes(file);
        }
    }

    private CheckpointException assertCorrupt(Path f, String fragment) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.loadCheckpoint(f).close(),
                () -> "expected a CheckpointException with '" + fragment + "'");
        assertTrue(e.getMessage().startsWith(f + ": "), "the message names the file: " + e.getMessage());
        assertEquals(f, e.file());
        assertTrue(e.problem().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        // every check is on the header, so reading only the header or the metadata fails alike
        assertThrows(CheckpointException.class, () -> Safetensors.header(f));
        assertThrows(CheckpointException.class, () -> Safetensors.metadata(f));
        return e;
    }

    /** A file with this header (length field = its UTF-8 length) and {@code dataBytes} bytes of data. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[dataBytes];
        new Random(dataBytes).nextBytes(data);
        return withLength(h.length, h, data);
    }

    private Path withLength(long declared, String header) throws IOException {
        return withLength(declared, header.getBytes(StandardCharsets.UTF_8), new byte[0]);
    }

    private Path withLength(long declared, byte[] header, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declared).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return raw(out.toByteArray());
    }

    private Path raw(byte[] bytes) throws IOException {
        Path f = dir.resolve("case" + (count++) + ".safetensors");
        Files.write(f, bytes);
        return f;
    }
}

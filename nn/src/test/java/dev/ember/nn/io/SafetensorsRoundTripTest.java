package dev.ember.nn.io;

import static dev.ember.nn.io.IoTestTensors.ALL;
import static dev.ember.nn.io.IoTestTensors.randomBits;
import static dev.ember.nn.io.IoTestTensors.randomShape;
import static dev.ember.nn.io.IoTestTensors.rowMajorBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save then load gives back every tensor bit for bit, for every dtype, shape and layout. */
class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    private final List<Tensor> made = new ArrayList<>();

    @AfterEach
    void closeTensors() {
        for (Tensor t : made) t.close();
    }

    private Tensor keep(Tensor t) {
        made.add(t);
        return t;
    }

    @Test
    void everyDtypeRandomShapesRoundTripExactly() throws IOException {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        for (int trial = 0; trial < 20; trial++) {
            Map<String, Tensor> saved = new LinkedHashMap<>();
            for (DType dtype : ALL) {
                saved.put(dtype + ".random", keep(randomBits(r, dtype, randomShape(r))));
                saved.put(dtype + ".scalar", keep(randomBits(r, dtype)));
                saved.put(dtype + ".empty", keep(randomBits(r, dtype, 3, 0, 2)));
            }
            assertRoundTrip(saved, Map.of("trial", Integer.toString(trial)), "seed " + seed + ", trial " + trial);
        }
    }

    @Test
    void nonContiguousSourcesAreWrittenInRowMajorOrder() throws IOException {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        Map<String, Tensor> saved = new LinkedHashMap<>();
        for (DType dtype : ALL) {
            Tensor matrix = keep(randomBits(r, dtype, 3 + r.nextInt(4), 2 + r.nextInt(4)));
            Tensor cube = keep(randomBits(r, dtype, 2, 3, 4));
            Tensor row = keep(randomBits(r, dtype, 1, 5));
            saved.put(dtype + ".transposed", keep(matrix.t()));
            saved.put(dtype + ".permuted", keep(cube.permute(2, 0, 1)));
            saved.put(dtype + ".strided", keep(cube.slice(2, 0, 4, 2)));
            saved.put(dtype + ".offset", keep(cube.select(0, 1)));
            saved.put(dtype + ".expanded", keep(row.expand(3, 5)));
            saved.put(dtype + ".emptyView", keep(matrix.slice(0, 1, 1)));
        }
        for (Tensor t : saved.values()) {
            if (t.numel() > 1) assertFalse(t.isContiguous() && t.storageOffset() == 0, "each source is a view");
        }
        assertRoundTrip(saved, Map.of(), "seed " + seed);
    }

    @Test
    void tensorsLargerThanTheStagingBufferRoundTrip() throws IOException {
        Random r = new Random(7);
        long elements = TensorData.CHUNK_BYTES / 4 * 2 + 12345; // several chunks and a partial one
        Tensor big = keep(randomBits(r, DType.FLOAT32, elements));
        Tensor bigDouble = keep(randomBits(r, DType.FLOAT64, 3, TensorData.CHUNK_BYTES / 8 / 3 + 7));
        assertRoundTrip(Map.of("big", big, "bigDouble", keep(bigDouble.t())), Map.of(), "large tensors");
    }

    @Test
    void metadataRoundTripsWithAnyText() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("quotes \" and \\ backslash", "new\nline\ttab\u0001\u007f/");
        metadata.put("unicode", "caf\u00e9 \u2603 \ud83d\ude00");
        metadata.put("", "");
        Path file = dir.resolve("meta.safetensors");
        Safetensors.save(Map.of("x", keep(Tensor.ones(2))), metadata, file);
        assertEquals(metadata, Safetensors.metadata(file));
        try (Checkpoint c = Safetensors.loadCheckpoint(file)) {
            assertEquals(metadata, c.metadata());
            assertEquals(List.of("x"), List.copyOf(c.tensors().keySet()));
        }
    }

    @Test
    void emptyMapAndEmptyMetadata() throws IOException {
        Path file = dir.resolve("empty.safetensors");
        Safetensors.save(Map.of(), file);
        assertEquals(16, Files.size(file), "8-byte length, then {} padded to 8 bytes");
        assertTrue(Safetensors.load(file).isEmpty());
        assertTrue(Safetensors.metadata(file).isEmpty());
    }

    @Test
    void loadedTensorsComeInFileOrderAndAreIndependentContiguousTensors() throws IOException {
        Tensor a = keep(Tensor.arange(6).reshape(2, 3));
        Path file = dir.resolve("order.safetensors");
        Map<String, Tensor> saved = new LinkedHashMap<>();
        saved.put("z.bool", keep(a.gt(2)));
        saved.put("b", keep(a.to(DType.FLOAT32)));
        saved.put("a", keep(a.to(DType.FLOAT32)));
        saved.put("long", a);
        Safetensors.save(saved, file);
        Map<String, Tensor> loaded = Safetensors.load(file);
        loaded.values().forEach(this::keep);
        // the reference layout: int64 before float32 before bool, names ordered within a dtype
        assertEquals(List.of("long", "a", "b", "z.bool"), List.copyOf(loaded.keySet()));
        for (Tensor t : loaded.values()) {
            assertTrue(t.isContiguous());
            assertEquals(0, t.storageOffset());
        }
        loaded.get("b").fill_(7);
        assertEquals(0, loaded.get("a").get(0, 0), "loaded tensors share no storage");
        assertEquals(5, loaded.get("long").get(1, 2));
    }

    @Test
    void layoutIsAlignedContiguousAndPadded() throws IOException {
        Random r = new Random(3);
        Map<String, Tensor> saved = new LinkedHashMap<>();
        for (DType dtype : ALL) saved.put("t." + dtype, keep(randomBits(r, dtype, 1 + r.nextInt(7))));
        Path file = dir.resolve("layout.safetensors");
        Safetensors.save(saved, Map.of("k", "v"), file);
        Header header = Safetensors.header(file);
        assertEquals(0, header.headerLength() % 8, "header padded to a multiple of 8");
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(header.headerLength(), ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        String json = new String(bytes, 8, (int) header.headerLength(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"__metadata__\":{\"k\":\"v\"},"), json);
        long expectedBegin = 0;
        for (TensorEntry e : header.tensors()) {
            assertEquals(expectedBegin, e.begin(), "offsets are contiguous: " + e);
            assertEquals(0, (header.dataStart() + e.begin()) % e.dtype().itemSize(), "aligned: " + e);
            expectedBegin = e.end();
        }
        assertEquals(bytes.length - header.dataStart(), expectedBegin);
    }

    @Test
    void badArgumentsFailBeforeTouchingTheDisk() {
        Path file = dir.resolve("never.safetensors");
        Tensor closed = Tensor.ones(2);
        closed.close();
        Map<String, Tensor> withNull = new LinkedHashMap<>();
        withNull.put("x", null);
        assertThrows(IllegalArgumentException.class, () -> Safetensors.save(Map.of("__metadata__", keep(Tensor.ones(1))), file));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.save(Map.of("x", closed), file));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.save(withNull, file));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.save(Map.of("\ud800", keep(Tensor.ones(1))), file));
        assertFalse(Files.exists(file));
    }

    private void assertRoundTrip(Map<String, Tensor> saved, Map<String, String> metadata, String context) throws IOException {
        Path file = dir.resolve("roundtrip.safetensors");
        Safetensors.save(saved, metadata, file);
        try (Checkpoint loaded = Safetensors.loadCheckpoint(file)) {
            assertEquals(saved.keySet(), loaded.tensors().keySet(), context);
            assertEquals(metadata, loaded.metadata(), context);
            for (Map.Entry<String, Tensor> e : saved.entrySet()) {
                Tensor expected = e.getValue(), actual = loaded.tensors().get(e.getKey());
                String what = context + ", tensor " + e.getKey();
                assertEquals(expected.dtype(), actual.dtype(), what);
                assertArrayEquals(expected.shape(), actual.shape(), what);
                assertArrayEquals(rowMajorBytes(expected), rowMajorBytes(actual), what);
            }
        }
    }
}

package dev.ember.nn.io;

import static dev.ember.nn.io.IoTestTensors.fromBytes;
import static dev.ember.nn.io.IoTestTensors.rowMajorBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.nn.io.ReferenceFiles.Expected;
import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files written by the reference implementation (Python's safetensors 0.8.0, from torch tensors)
 * load with the right values, and Ember writes the same tensors to the same bytes, so Python tools
 * read Ember's checkpoints as their own.
 */
class SafetensorsInteropTest {
    /** The metadata make_reference.py gave reference.safetensors. */
    private static final Map<String, String> REFERENCE_METADATA =
            Map.of("note", "say \"hi\" \\ \n\t caf\u00e9 \u2603 \ud83d\ude00 \u0001\u007f /");

    @TempDir
    Path dir;

    private final List<Tensor> made = new ArrayList<>();

    @BeforeAll
    static void littleEndianMachine() {
        // the tests build tensors from the file's little-endian bytes by copying them as they are
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
    }

    @AfterEach
    void closeTensors() {
        for (Tensor t : made) t.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "nometa", "empty"})
    void referenceFilesLoadWithTheirValues(String stem) throws IOException {
        List<Expected> expected = ReferenceFiles.expected(stem);
        try (Checkpoint c = Safetensors.loadCheckpoint(ReferenceFiles.file(stem))) {
            assertEquals(stem.equals("reference") ? REFERENCE_METADATA : Map.of(), c.metadata());
            assertEquals(expected.size(), c.tensors().size());
            for (Expected e : expected) {
                Tensor t = c.tensors().get(e.name());
                assertEquals(e.dtype(), t.dtype(), e.name());
                assertArrayEquals(e.shape(), t.shape(), e.name());
                assertArrayEquals(e.raw(), rowMajorBytes(t), e.name() + " bytes");
                assertValues(e, t);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "nometa", "empty"})
    void emberWritesTheReferenceBytesExactly(String stem) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Expected e : ReferenceFiles.expected(stem)) {
            Tensor t = keep(fromBytes(e.dtype(), e.shape(), e.raw()));
            if (e.name().equals("fc.weight")) {
                // written from a transposed view: the bytes must still be the row-major ones
                t = keep(keep(t.t().contiguous()).t());
            }
            tensors.put(e.name(), t);
        }
        Path ours = dir.resolve(stem + ".safetensors");
        Safetensors.save(tensors, stem.equals("reference") ? REFERENCE_METADATA : Map.of(), ours);
        byte[] expected = Files.readAllBytes(ReferenceFiles.file(stem));
        byte[] actual = Files.readAllBytes(ours);
        assertEquals(headerText(expected), headerText(actual));
        assertArrayEquals(expected, actual);
    }

    private static String headerText(byte[] file) {
        int n = (int) java.nio.ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(file, 8, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void assertValues(Expected e, Tensor t) {
        if (e.dtype().isFloatingPoint()) {
            double[] actual = t.toDoubleArray();
            assertEquals(e.values().size(), actual.length, e.name());
            for (int i = 0; i < actual.length; i++) {
                double want = ReferenceFiles.pythonFloat(e.values().get(i));
                // exact, sign of zero and NaN included
                assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(actual[i]),
                        e.name() + "[" + i + "]: " + want + " vs " + actual[i]);
            }
        } else {
            long[] actual = t.toLongArray();
            assertEquals(e.values().size(), actual.length, e.name());
            for (int i = 0; i < actual.length; i++) assertEquals(Long.parseLong(e.values().get(i)), actual[i], e.name() + "[" + i + "]");
        }
    }

    private Tensor keep(Tensor t) {
        made.add(t);
        return t;
    }
}

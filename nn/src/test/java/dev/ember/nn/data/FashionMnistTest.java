package dev.ember.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    static final FashionMnist TINY = FashionMnist.onClasspath("fashion-mnist-tiny");
    /** The subset shipped with the examples, seen from this module's folder (surefire runs in nn/). */
    static final Path SHIPPED_SUBSET = Path.of("../examples/src/main/resources/fashion-mnist-subset");

    @TempDir
    Path tmp;

    /** The tiny subset copied into a directory, to load it the way an installed set is loaded. */
    private Path tinyDir() throws IOException {
        for (Split s : Split.values()) {
            for (String f : new String[] {FashionMnist.imagesFile(s), FashionMnist.labelsFile(s)}) {
                Files.write(tmp.resolve(f), IdxTest.resource(f));
            }
        }
        return tmp;
    }

    @Test
    void loadsImagesScaledToUnitRangeAndInt64Labels() throws IOException {
        try (TensorDataset train = TINY.load(Split.TRAIN)) {
            assertEquals(256, train.size());
            assertArrayEquals(new long[] {256, 1, 28, 28}, train.inputs().shape());
            assertEquals(DType.FLOAT32, train.inputs().dtype());
            assertArrayEquals(new long[] {256}, train.targets().shape());
            assertEquals(DType.INT64, train.targets().dtype());

            // pixels and labels against the file's bytes, read here independently of Idx
            byte[] images = IdxTest.gunzip(IdxTest.resource("train-images-idx3-ubyte.gz"));
            byte[] labels = IdxTest.gunzip(IdxTest.resource("train-labels-idx1-ubyte.gz"));
            float[] x = train.inputs().toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals((images[16 + i] & 0xFF) / 255f, x[i], 1e-7, "pixel " + i);
            }
            long[] y = train.targets().toLongArray();
            int[] perClass = new int[10];
            for (int i = 0; i < y.length; i++) {
                assertEquals(labels[8 + i], y[i], "label " + i);
                perClass[(int) y[i]]++;
            }
            // 256 over ten classes, balanced: six classes of 26 and four of 25
            assertArrayEquals(new int[] {26, 26, 26, 26, 26, 26, 25, 25, 25, 25}, perClass);
        }
    }

    @Test
    void normalisesOnceWhenLoading() throws IOException {
        byte[] images = IdxTest.gunzip(IdxTest.resource("t10k-images-idx3-ubyte.gz"));
        try (TensorDataset test = TINY.load(Split.TEST, Normalize.FASHION_MNIST)) {
            float[] x = test.inputs().toFloatArray();
            assertEquals(64 * 784, x.length);
            for (int i = 0; i < x.length; i++) {
                double expected = ((images[16 + i] & 0xFF) / 255.0 - 0.2860) / 0.3530;
                assertEquals(expected, x[i], 1e-5, "pixel " + i);
            }
        }
    }

    @Test
    void loadsFromADirectoryAsFromTheClasspath() throws IOException {
        Path dir = tinyDir();
        try (TensorDataset fromDir = FashionMnist.test(dir); TensorDataset fromJar = TINY.load(Split.TEST)) {
            assertTrue(fromDir.inputs().equal(fromJar.inputs()));
            assertTrue(fromDir.targets().equal(fromJar.targets()));
        }
        assertEquals(256, FashionMnist.at(dir).size(Split.TRAIN));
        FashionMnist found = FashionMnist.fullOrSubset(dir);
        assertTrue(found.isDirectory());
        assertFalse(found.isFallback());
        assertEquals("Fashion-MNIST from " + dir + " (256 train, 64 test images)", found.description());
    }

    @Test
    void missingDirectorySaysHowToGetTheData() {
        Path nowhere = tmp.resolve("no-such-dir");
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class, () -> FashionMnist.train(nowhere));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains(nowhere + " does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
    }

    @Test
    void missingFileIsNamedExactly() throws IOException {
        Path dir = tinyDir();
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        try (TensorDataset train = FashionMnist.train(dir)) {
            assertEquals(256, train.size()); // the train split is complete
        }
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class, () -> FashionMnist.test(dir));
        assertTrue(e.getMessage().contains(dir.resolve("t10k-labels-idx1-ubyte.gz") + " is missing"), e.getMessage());
        assertFalse(e.getMessage().contains("t10k-images-idx3-ubyte.gz is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void fallsBackToTheSubsetWhenTheFullSetIsIncomplete() throws IOException {
        Path dir = tinyDir();
        Files.delete(dir.resolve("train-images-idx3-ubyte.gz"));
        FashionMnist data = FashionMnist.fullOrSubset(dir);
        assertTrue(data.isFallback());
        assertFalse(data.isDirectory());
        String line = data.description();
        assertTrue(line.contains("full set not found in " + dir) && line.contains("apt-get install dataset-fashion-mnist"), line);
        assertFalse(line.contains("\n"), "one line: " + line);
    }

    @Test
    void corruptFileFailsNamingIt() throws IOException {
        Path dir = tinyDir();
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        byte[] gz = Files.readAllBytes(labels);
        Files.write(labels, Arrays.copyOf(gz, gz.length - 12));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> FashionMnist.train(dir));
        assertInstanceOf(IdxFormatException.class, e.getCause());
        assertTrue(e.getMessage().startsWith(labels.toString()), e.getMessage());
    }

    @Test
    void labelOutsideTheClassesIsRejected() throws IOException {
        Path dir = tinyDir();
        byte[] labels = IdxTest.gunzip(IdxTest.resource("t10k-labels-idx1-ubyte.gz"));
        labels[8 + 5] = 10;
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), IdxTest.gzip(labels));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> FashionMnist.test(dir));
        assertTrue(e.getMessage().contains("label 10 at index 5 is not a class"), e.getMessage());
    }

    @Test
    void countMismatchBetweenImagesAndLabelsIsRejected() throws IOException {
        Path dir = tinyDir();
        // the test labels (64) next to the train images (256)
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), IdxTest.resource("t10k-labels-idx1-ubyte.gz"));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> FashionMnist.train(dir));
        assertTrue(e.getMessage().contains("holds 64 labels") && e.getMessage().contains("256 images"), e.getMessage());
    }

    @Test
    void acceptsGunzippedFiles() throws IOException {
        Path dir = tinyDir();
        for (String f : new String[] {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            Files.write(dir.resolve(f.replace(".gz", "")), IdxTest.gunzip(Files.readAllBytes(dir.resolve(f))));
            Files.delete(dir.resolve(f));
        }
        try (TensorDataset test = FashionMnist.test(dir); TensorDataset expected = TINY.load(Split.TEST)) {
            assertTrue(test.inputs().equal(expected.inputs()));
        }
    }

    @Test
    void shippedSubsetIsBalancedAndOfTheAdvertisedSize() {
        assumeTrue(Files.isDirectory(SHIPPED_SUBSET), "run from the nn module of the repository");
        FashionMnist subset = FashionMnist.at(SHIPPED_SUBSET);
        assertEquals(10_000, subset.size(Split.TRAIN));
        try (TensorDataset test = subset.load(Split.TEST)) {
            assertEquals(2_000, test.size());
            int[] perClass = new int[10];
            for (long y : test.targets().toLongArray()) perClass[(int) y]++;
            int[] expected = new int[10];
            Arrays.fill(expected, 200);
            assertArrayEquals(expected, perClass);
        }
    }

    @Test
    void fullSetWhenInstalled() {
        FashionMnist full = FashionMnist.at(FashionMnist.DEFAULT_DIR);
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "the full set is not installed");
        assertEquals(60_000, full.size(Split.TRAIN));
        try (TensorDataset test = FashionMnist.test()) {
            assertArrayEquals(new long[] {10_000, 1, 28, 28}, test.inputs().shape());
            // the mean pixel of the test set, as torchvision computes it: 0.2868
            try (var mean = test.inputs().mean()) {
                assertEquals(0.2868, mean.item(), 5e-4);
            }
        }
    }
}

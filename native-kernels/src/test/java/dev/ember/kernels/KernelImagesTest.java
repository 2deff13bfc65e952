package dev.ember.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the fatbins this build produced, without a GPU: they exist, are fatbin
 * containers with the targets the build asks for, and hold the kernels the CUDA backend
 * looks up. Where this machine has nvcc the kernels must have been built; elsewhere the
 * image tests are skipped and only the "kernels not built" reporting is checked.
 */
class KernelImagesTest {

    /** First word of every fatbin container nvcc writes (little-endian on disk: 50 ED 55 BA). */
    static final int FATBIN_MAGIC = 0xBA55ED50;

    static final List<String> FILL_KERNELS = List.of("ember_fill_bf16", "ember_fill_f16",
            "ember_fill_f32", "ember_fill_f64", "ember_fill_i32", "ember_fill_i64", "ember_fill_u8");
    static final List<String> COPY_KERNELS = List.of("ember_strided_copy_1", "ember_strided_copy_2",
            "ember_strided_copy_4", "ember_strided_copy_8");

    @BeforeAll
    static void builtWhereNvccIs() {
        if (nvccOnThisMachine()) {
            assertTrue(KernelImages.isBuilt(), () -> "nvcc is on this machine but " + KernelImages.notBuiltReason());
        }
    }

    /** The same places build-kernels.sh looks. */
    static boolean nvccOnThisMachine() {
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && Files.isExecutable(Path.of(cudaHome, "bin", "nvcc"))) return true;
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) return true;
        }
        return Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"));
    }

    @Test
    void indexListsTheKernelsTheBackendNeeds() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        assertEquals("", KernelImages.notBuiltReason());
        assertEquals(List.of("fill", "strided_copy"), KernelImages.imageNames().stream()
                .filter(n -> n.equals("fill") || n.equals("strided_copy")).toList());
        assertTrue(KernelImages.kernelNames("fill").containsAll(FILL_KERNELS), KernelImages.kernelNames("fill")::toString);
        assertTrue(KernelImages.kernelNames("strided_copy").containsAll(COPY_KERNELS));
        assertEquals(Optional.of("fill"), KernelImages.imageOf("ember_fill_f32"));
        assertEquals(Optional.of("strided_copy"), KernelImages.imageOf("ember_strided_copy_8"));
        assertTrue(KernelImages.imageOf("no_such_kernel").isEmpty());
        assertEquals(List.of("sm_80", "sm_90a", "compute_80"), KernelImages.targets());
        assertFalse(KernelImages.nvccVersion().isBlank());
    }

    @Test
    void everyImageIsAFatbinWithSassForSm80AndSm90AndPtxForCompute80() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        for (String name : KernelImages.imageNames()) {
            byte[] image = KernelImages.image(name);
            List<Entry> entries = entries(name, image);
            assertTrue(entries.contains(new Entry(KIND_PTX, 80)), name + ": no compute_80 PTX in " + entries);
            assertTrue(entries.contains(new Entry(KIND_ELF, 80)), name + ": no sm_80 SASS in " + entries);
            assertTrue(entries.contains(new Entry(KIND_ELF, 90)), name + ": no sm_90a SASS in " + entries);
        }
    }

    @Test
    void everyListedKernelIsInItsImage() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        for (String name : KernelImages.imageNames()) {
            // An ELF names each kernel in its string table (".text.<kernel>"), so in an image whose
            // SASS is stored uncompressed the names can be found in the raw bytes. nvcc compresses
            // the code of large images (no ELF magic left in the bytes); KernelLaunchGpuTest looks
            // every listed kernel up in those through the driver.
            String text = new String(KernelImages.image(name), StandardCharsets.ISO_8859_1);
            if (!text.contains("\u007fELF")) continue;
            for (String kernel : KernelImages.kernelNames(name)) {
                assertTrue(text.contains(".text." + kernel + "\0"), name + ".fatbin lacks the code of " + kernel);
            }
        }
        Set<String> all = new HashSet<>();
        KernelImages.imageNames().forEach(n -> all.addAll(KernelImages.kernelNames(n)));
        assertTrue(all.containsAll(FILL_KERNELS) && all.containsAll(COPY_KERNELS), all::toString);
    }

    @Test
    void imageSegmentIsAnAlignedNativeCopy() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        byte[] bytes = KernelImages.image("fill");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = KernelImages.imageSegment("fill", arena);
            assertTrue(seg.isNative());
            assertEquals(0, seg.address() % 64);
            assertEquals(bytes.length, seg.byteSize());
            assertArrayEquals(bytes, seg.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(FATBIN_MAGIC, seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        }
    }

    @Test
    void unknownImageNamesTheImagesThereAre() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        var e = assertThrows(IllegalArgumentException.class, () -> KernelImages.image("nope"));
        assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains("fill"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelImages.kernelNames("nope"));
    }

    @Test
    void notBuiltJarReportsKernelsNotBuiltWithTheReason() {
        Properties p = new Properties();
        p.setProperty("built", "false");
        p.setProperty("reason", "nvcc was not found when ember-native-kernels was built (searched PATH)");
        KernelIndex index = KernelIndex.parse(p);
        assertFalse(index.isBuilt());
        assertEquals("kernels not built: nvcc was not found when ember-native-kernels was built (searched PATH)",
                index.notBuiltReason());
        assertTrue(index.imageNames().isEmpty());
        assertNull(index.imageOf("ember_fill_f32"));

        if (!KernelImages.isBuilt()) {
            assertTrue(KernelImages.notBuiltReason().startsWith("kernels not built: "), KernelImages.notBuiltReason());
            var e = assertThrows(IllegalStateException.class, () -> KernelImages.image("fill"));
            assertTrue(e.getMessage().startsWith("kernels not built"), e.getMessage());
        }
    }

    @Test
    void malformedIndexIsReportedNotThrown() {
        Properties p = new Properties();
        p.setProperty("built", "true");
        p.setProperty("images", "fill");
        KernelIndex index = KernelIndex.parse(p);
        assertFalse(index.isBuilt());
        assertTrue(index.notBuiltReason().contains("image 'fill'"), index.notBuiltReason());

        p.setProperty("image.fill", "ember_fill_f32,ember_fill_u8");
        p.setProperty("targets", "sm_80 compute_80");
        index = KernelIndex.parse(p);
        assertTrue(index.isBuilt());
        assertEquals(List.of("ember_fill_f32", "ember_fill_u8"), index.kernelsOf("fill"));
        assertEquals("fill", index.imageOf("ember_fill_u8"));
        assertEquals(List.of("sm_80", "compute_80"), index.targets());
    }

    // ---- the fatbin container, as far as these checks need it ----
    //
    // nvcc's fatbin layout is not documented by NVIDIA; these are the fields that
    // cuobjdump and the driver read, as nvcc 12 and 13 write them:
    //   header: u32 magic, u16 version, u16 header size, u64 size of the entries after it
    //   entry:  u16 kind (1 = PTX, 2 = ELF/SASS), u16 version, u32 entry header size,
    //           u64 payload size, ..., u32 arch at offset 28 (the SM number: 80, 90)

    static final int KIND_PTX = 1;
    static final int KIND_ELF = 2;

    record Entry(int kind, int arch) {
    }

    static List<Entry> entries(String name, byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue(image.length >= 16, name + ": too short for a fatbin header");
        assertEquals(FATBIN_MAGIC, b.getInt(0), () -> name + ": bad fatbin magic 0x" + Integer.toHexString(b.getInt(0)));
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long entriesSize = b.getLong(8);
        assertEquals(image.length, headerSize + entriesSize, name + ": fatbin size does not match its header");
        List<Entry> out = new ArrayList<>();
        long at = headerSize;
        while (at < image.length) {
            int pos = Math.toIntExact(at);
            int kind = Short.toUnsignedInt(b.getShort(pos));
            long entryHeader = Integer.toUnsignedLong(b.getInt(pos + 4));
            long payload = b.getLong(pos + 8);
            out.add(new Entry(kind, b.getInt(pos + 28)));
            at += entryHeader + payload;
        }
        assertEquals(image.length, at, name + ": fatbin entries overrun the image");
        return out;
    }
}

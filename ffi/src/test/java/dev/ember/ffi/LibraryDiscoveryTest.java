package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding CUDA libraries, tested on temporary folders: no GPU and no CUDA library needed. */
class LibraryDiscoveryTest {

    @TempDir
    Path tmp;

    /** A cuBLAS-like library whose environment is entirely under tmp. */
    private NativeLibrary cublasLike(Map<String, String> env, Map<String, String> properties, int driverMajor) {
        return new NativeLibrary("cuBLAS", "cublas", major -> NativeLibrary.versionedNames("libcublas.so", major),
                file -> List.of(), List::of, () -> driverMajor,
                LibrarySearchPath.Environment.of(env, properties, tmp.resolve("root")));
    }

    /**
     * Writes a file that the dynamic loader rejects: an ELF header and a single program header
     * marking a non-executable stack, and nothing else. (A file that is not ELF at all would also
     * fail to load, but HotSpot first warns that it "might have disabled stack guard".)
     */
    static Path writeUnloadableLibrary(Path file) throws IOException {
        ByteBuffer elf = ByteBuffer.allocate(64 + 56).order(ByteOrder.LITTLE_ENDIAN);
        elf.put(new byte[] {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */});
        elf.position(16);
        elf.putShort((short) 3); // e_type: shared object
        elf.putShort((short) 62); // e_machine: x86-64
        elf.putInt(1); // e_version
        elf.putLong(0); // e_entry
        elf.putLong(64); // e_phoff
        elf.putLong(0); // e_shoff
        elf.putInt(0); // e_flags
        elf.putShort((short) 64); // e_ehsize
        elf.putShort((short) 56); // e_phentsize
        elf.putShort((short) 1); // e_phnum
        elf.putShort((short) 64); // e_shentsize
        elf.putShort((short) 0); // e_shnum
        elf.putShort((short) 0); // e_shstrndx
        elf.putInt(0x6474e551); // p_type: PT_GNU_STACK
        elf.putInt(6); // p_flags: read and write, not execute
        return Files.write(file, elf.array());
    }

    @Test
    void aPropertyOverridePointingNowhereNamesItself() {
        String missing = tmp.resolve("nowhere/libcublas.so.13").toString();
        NativeLibrary lib = cublasLike(Map.of(), Map.of("ember.libcublas", missing), 13);
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, lib::lookup);
        assertTrue(e.getMessage().contains("system property ember.libcublas=" + missing), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("EMBER_LIBCUBLAS"), e.getMessage());
        assertEquals(List.of("system property ember.libcublas=" + missing), e.searched());
        assertEquals(CudaException.Api.LOADER, e.api());
        assertFalse(lib.isAvailable());
    }

    @Test
    void anEnvironmentOverridePointingNowhereNamesItself() {
        String missing = tmp.resolve("absent.so").toString();
        NativeLibrary lib = cublasLike(Map.of("EMBER_LIBCUBLAS", missing), Map.of(), 13);
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, lib::lookup);
        assertTrue(e.getMessage().contains("environment variable EMBER_LIBCUBLAS=" + missing), e.getMessage());
    }

    @Test
    void thePropertyWinsOverTheEnvironment() {
        NativeLibrary lib = cublasLike(Map.of("EMBER_LIBCUBLAS", "/env/path"), Map.of("ember.libcublas", "/prop/path"), 13);
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, lib::lookup);
        assertTrue(e.getMessage().contains("/prop/path"), e.getMessage());
        assertFalse(e.getMessage().contains("/env/path"), e.getMessage());
    }

    @Test
    void anOverrideFolderWithoutTheLibraryIsAnError() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        NativeLibrary lib = cublasLike(Map.of(), Map.of("ember.libcublas", dir.toString()), 13);
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, lib::lookup);
        assertTrue(e.getMessage().contains("names a folder that holds none of libcublas.so.13, libcublas.so.12"),
                e.getMessage());
    }

    @Test
    void withoutAnyLibraryTheMessageListsEveryPlaceSearched() throws IOException {
        Path ld = Files.createDirectories(tmp.resolve("ld"));
        Path venv = tmp.resolve("venv");
        NativeLibrary lib = cublasLike(Map.of("LD_LIBRARY_PATH", ld.toString(), "VIRTUAL_ENV", venv.toString(),
                "HOME", tmp.resolve("home").toString()), Map.of(), 13);
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, lib::lookup);
        String message = e.getMessage();
        for (String expected : List.of("system property ember.libcublas (not set)",
                "environment variable EMBER_LIBCUBLAS (not set)",
                "LD_LIBRARY_PATH entry " + ld,
                "/usr/local/cuda/lib64 (absent)",
                "/usr/local/cuda-*/lib64 (absent)",
                "/usr/lib/x86_64-linux-gnu (absent)",
                "/usr/lib64 (absent)",
                venv + "/lib/python3*/site-packages/nvidia/*/lib (absent)",
                "/usr/local/lib/python3*/dist-packages/nvidia/*/lib (absent)",
                "libcublas.so.13, libcublas.so.12, libcublas.so")) {
            assertTrue(message.contains(expected), "missing '" + expected + "' in:\n" + message);
        }
        assertTrue(message.indexOf("LD_LIBRARY_PATH entry") < message.indexOf("/usr/local/cuda/lib64"), message);
        assertTrue(message.indexOf("/usr/local/cuda/lib64") < message.indexOf("/usr/lib/x86_64-linux-gnu"), message);
        assertTrue(message.indexOf("/usr/lib/x86_64-linux-gnu") < message.indexOf("site-packages"), message);
        assertTrue(e.searched().size() > 20, e.searched().toString());
    }

    @Test
    void pipWheelFoldersAreFoundAndTheDriversMajorIsPreferred() throws IOException {
        // Files that exist but are not libraries: found in the right order, then reported as unloadable.
        Path venv = tmp.resolve("venv");
        Path cu13 = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cu13/lib"));
        Path cublas12 = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cublas/lib"));
        writeUnloadableLibrary(cu13.resolve("libcublas.so.13"));
        writeUnloadableLibrary(cublas12.resolve("libcublas.so.12"));
        Map<String, String> env = Map.of("VIRTUAL_ENV", venv.toString());

        String with13 = assertThrows(NativeLibraryNotFoundException.class,
                () -> cublasLike(env, Map.of(), 13).lookup()).getMessage();
        assertTrue(with13.contains("Found but could not load"), with13);
        assertTrue(with13.indexOf(cu13.resolve("libcublas.so.13").toString())
                < with13.indexOf(cublas12.resolve("libcublas.so.12").toString()), with13);

        String with12 = assertThrows(NativeLibraryNotFoundException.class,
                () -> cublasLike(env, Map.of(), 12).lookup()).getMessage();
        assertTrue(with12.indexOf(cublas12.resolve("libcublas.so.12").toString())
                < with12.indexOf(cu13.resolve("libcublas.so.13").toString()), with12);
    }

    @Test
    void anOverrideFileThatIsNotALibraryReportsTheLoadError() throws IOException {
        Path fake = writeUnloadableLibrary(tmp.resolve("libcublas.so.13"));
        NativeLibrary lib = cublasLike(Map.of(), Map.of("ember.libcublas", fake.toString()), 13);
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, lib::lookup);
        assertTrue(e.getMessage().contains("Found but could not load:\n  - " + fake), e.getMessage());
    }

    @Test
    void searchOrderPutsLdLibraryPathFirstAndPythonLast() throws IOException {
        Path ld = Files.createDirectories(tmp.resolve("ld"));
        Path root = tmp.resolve("root");
        Path system = Files.createDirectories(root.resolve("usr/lib/x86_64-linux-gnu"));
        Path cuda = Files.createDirectories(root.resolve("usr/local/cuda-12.9/lib64"));
        Path cudaNewer = Files.createDirectories(root.resolve("usr/local/cuda-13.0/lib64"));
        Path py39 = Files.createDirectories(root.resolve("usr/local/lib/python3.9/dist-packages/nvidia/cudnn/lib"));
        Path py312 = Files.createDirectories(root.resolve("usr/local/lib/python3.12/dist-packages/nvidia/cudnn/lib"));
        Map<String, String> env = new HashMap<>();
        env.put("LD_LIBRARY_PATH", ld + "::" + ld);
        List<Path> dirs = new LibrarySearchPath(LibrarySearchPath.Environment.of(env, Map.of(), root)).directories();
        // Creating those folders also created root/usr/lib and root/usr/local/lib, which are searched too.
        assertEquals(List.of(ld, cudaNewer, cuda, system, root.resolve("usr/lib"), root.resolve("usr/local/lib"),
                py312, py39), dirs);
    }

    @Test
    void namesSortNaturally() {
        assertTrue(LibrarySearchPath.compareNatural("python3.12", "python3.9") > 0);
        assertTrue(LibrarySearchPath.compareNatural("cuda-13.0", "cuda-12.10") > 0);
        assertTrue(LibrarySearchPath.compareNatural("cuda-12.2", "cuda-12.10") < 0);
        assertEquals(0, LibrarySearchPath.compareNatural("a1", "a1"));
    }

    @Test
    void versionedNamesPutTheDriversMajorFirst() {
        assertEquals(List.of("libnvrtc.so.12", "libnvrtc.so.13", "libnvrtc.so"),
                NativeLibrary.versionedNames("libnvrtc.so", 12));
        assertEquals(List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"),
                NativeLibrary.versionedNames("libnvrtc.so", 13));
        assertEquals(List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"),
                NativeLibrary.versionedNames("libnvrtc.so", 0));
    }

    @Test
    void theRealDriverSearchNeverThrowsFromIsAvailable() {
        boolean available = NativeLibrary.CUDA_DRIVER.isAvailable();
        if (!available) {
            NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class,
                    NativeLibrary.CUDA_DRIVER::lookup);
            assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
            assertTrue(e.getMessage().contains("EMBER_LIBCUDA"), e.getMessage());
            assertTrue(e.getMessage().contains("x86_64-linux-gnu") || e.getMessage().contains("aarch64-linux-gnu"),
                    e.getMessage());
        } else {
            assertFalse(NativeLibrary.CUDA_DRIVER.describe().startsWith("not loaded"));
        }
        assertEquals("EMBER_LIBCUDA", NativeLibrary.CUDA_DRIVER.environmentVariable());
        assertEquals("ember.libcuda", NativeLibrary.CUDA_DRIVER.systemProperty());
        assertEquals("ember.libcudnn", NativeLibrary.CUDNN.systemProperty());
        assertEquals("EMBER_LIBNVRTC", NativeLibrary.NVRTC.environmentVariable());
    }
}

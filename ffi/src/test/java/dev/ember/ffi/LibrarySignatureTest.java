package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The cuBLAS, cuDNN and NVRTC bindings against those libraries' own headers, wherever the
 * headers are installed: next to the libraries (pip's wheels ship them in
 * {@code nvidia/<pkg>/include}), in the CUDA toolkit, in {@code /usr/include}, or in the
 * folders listed in {@code EMBER_CUDA_INCLUDE}. Each library's check is skipped where its
 * headers are not found. Needs no GPU.
 */
class LibrarySignatureTest {

    @Test
    void cublasBindingsMatchCublasApiH() throws IOException {
        check("cuBLAS", CublasFunctions.ALL, List.of("cublas_api.h"), NativeLibrary.CUBLAS);
    }

    @Test
    void cudnnBindingsMatchCudnn9Headers() throws IOException {
        check("cuDNN", CudnnFunctions.ALL,
                List.of("cudnn_version.h", "cudnn_graph.h", "cudnn_ops.h", "cudnn_cnn.h"), NativeLibrary.CUDNN);
    }

    @Test
    void nvrtcBindingsMatchNvrtcH() throws IOException {
        check("NVRTC", NvrtcFunctions.ALL, List.of("nvrtc.h"), NativeLibrary.NVRTC);
    }

    private static void check(String library, List<NativeFunction> functions, List<String> headerNames,
                              NativeLibrary nativeLibrary) throws IOException {
        Optional<Path> dir = findDirectoryHolding(headerNames, nativeLibrary);
        Assumptions.assumeTrue(dir.isPresent(), "no " + headerNames + " found for " + library
                + "; set EMBER_CUDA_INCLUDE to check its bindings against them");
        List<Path> files = new ArrayList<>();
        // The CUDA runtime's type headers define cudaStream_t, cudaDataType and libraryPropertyType.
        for (String support : List.of("library_types.h", "driver_types.h")) {
            findDirectoryHolding(List.of(support), nativeLibrary).ifPresent(d -> files.add(d.resolve(support)));
        }
        for (String name : headerNames) {
            files.add(dir.get().resolve(name));
        }
        CHeader header = CHeader.parse(files, CHeader.LINUX_X86_64_GCC);

        List<String> problems = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        for (NativeFunction function : functions) {
            var prototype = header.prototype(function.symbol());
            if (prototype.isEmpty()) {
                problems.add(function.symbol() + ": no prototype in " + files);
                continue;
            }
            for (String problem : SignatureCheck.compare(function.symbol(), function.descriptor(), prototype.get())) {
                (problem.contains("cannot resolve") ? unresolved : problems).add(problem);
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " " + library + " binding(s) disagree with " + files + ":\n  "
                    + String.join("\n  ", problems));
        }
        Assumptions.assumeTrue(unresolved.isEmpty(), "types the header check could not resolve (a missing "
                + "support header?): " + unresolved);
    }

    /** The first folder that holds all the named headers. */
    private static Optional<Path> findDirectoryHolding(List<String> headerNames, NativeLibrary library) {
        for (Path dir : candidateIncludeDirectories(library)) {
            boolean all = true;
            for (String name : headerNames) {
                all &= Files.isRegularFile(dir.resolve(name));
            }
            if (all) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    private static List<Path> candidateIncludeDirectories(NativeLibrary library) {
        Set<Path> dirs = new LinkedHashSet<>();
        String explicit = System.getenv("EMBER_CUDA_INCLUDE");
        if (explicit != null) {
            for (String entry : explicit.split(":")) {
                if (!entry.isBlank()) {
                    dirs.add(Path.of(entry));
                }
            }
        }
        library.path().ifPresent(lib -> dirs.add(lib.getParent().resolveSibling("include")));
        for (Path libDir : new LibrarySearchPath(LibrarySearchPath.Environment.system()).directories()) {
            if (libDir.getParent() != null) {
                dirs.add(libDir.resolveSibling("include"));
            }
        }
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) {
            dirs.add(Path.of(cudaHome, "include"));
        }
        dirs.add(Path.of("/usr/local/cuda/include"));
        dirs.add(Path.of("/usr/include"));
        dirs.add(Path.of("/usr/include/x86_64-linux-gnu"));
        return List.copyOf(dirs);
    }
}

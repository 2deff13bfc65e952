package dev.ember.ffi;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * One CUDA library, found and loaded on first use.
 *
 * <p>Search order: an explicit override (system property {@code ember.libNAME}, then
 * environment variable {@code EMBER_LIBNAME}, each naming the library file or its folder;
 * an override that points nowhere is an error, not a hint), then the folders of
 * {@link LibrarySearchPath}, then the dynamic loader's own search by file name. Libraries
 * that exist for CUDA 12 and 13 ({@code libcublas.so.13}/{@code .12}, {@code libnvrtc})
 * prefer the major version of the installed driver, then the newest. When nothing loads, the
 * {@link NativeLibraryNotFoundException} names every place searched.
 *
 * <p>Loaded libraries stay loaded for the life of the JVM ({@link Arena#global()}).
 */
public final class NativeLibrary {

    /** CUDA majors a toolkit library may come in, newest first. */
    private static final List<Integer> TOOLKIT_MAJORS = List.of(13, 12);

    /** The driver API, {@code libcuda.so.1}, installed with the NVIDIA driver. */
    public static final NativeLibrary CUDA_DRIVER = new NativeLibrary(
            "CUDA driver", "cuda", major -> List.of("libcuda.so.1"), file -> List.of(),
            List::of, () -> 0, LibrarySearchPath.Environment.system());

    /** cuBLAS for CUDA 13 or 12; {@code libcublasLt} from the same folder is loaded first. */
    public static final NativeLibrary CUBLAS = new NativeLibrary(
            "cuBLAS", "cublas", major -> versionedNames("libcublas.so", major),
            file -> List.of("libcublasLt.so" + versionSuffix(file)),
            List::of, NativeLibrary::driverMajor, LibrarySearchPath.Environment.system());

    /** NVRTC for CUDA 13 or 12; its builtins library from the same folder is loaded first. */
    public static final NativeLibrary NVRTC = new NativeLibrary(
            "NVRTC", "nvrtc", major -> versionedNames("libnvrtc.so", major),
            file -> List.of("libnvrtc-builtins.so" + versionSuffix(file) + "*"),
            List::of, NativeLibrary::driverMajor, LibrarySearchPath.Environment.system());

    /**
     * cuDNN 9. {@code libcudnn.so.9} is a shim that opens its sub-libraries by file name when
     * they are first needed; loading them first from the shim's own folder (dependencies
     * first) lets the dynamic loader match them by soname even when that folder is not on
     * {@code LD_LIBRARY_PATH}, as with pip's wheels. cuBLAS and NVRTC are loaded first for the
     * same reason: cuDNN's engines open {@code libcublasLt} and {@code libnvrtc}.
     */
    public static final NativeLibrary CUDNN = new NativeLibrary(
            "cuDNN", "cudnn", major -> List.of("libcudnn.so.9"),
            file -> List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
                    "libcudnn_engines_runtime_compiled.so.9", "libcudnn_engines_tensor_ir.so.9",
                    "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
                    "libcudnn_ext.so.9"),
            () -> List.of(CUBLAS, NVRTC), () -> 0, LibrarySearchPath.Environment.system());

    private final String displayName;
    private final String key;
    private final Function<Integer, List<String>> fileNames;
    private final Function<String, List<String>> companions;
    private final Supplier<List<NativeLibrary>> dependencies;
    private final IntSupplier preferredMajor;
    private final LibrarySearchPath.Environment environment;

    private volatile Loaded loaded;

    /** The outcome of a load attempt; exactly one of lookup and failure is set. */
    private record Loaded(SymbolLookup lookup, Path path, String source, String failure, List<String> searched) {
    }

    NativeLibrary(String displayName, String key, Function<Integer, List<String>> fileNames,
                  Function<String, List<String>> companions, Supplier<List<NativeLibrary>> dependencies,
                  IntSupplier preferredMajor, LibrarySearchPath.Environment environment) {
        this.displayName = displayName;
        this.key = key;
        this.fileNames = fileNames;
        this.companions = companions;
        this.dependencies = dependencies;
        this.preferredMajor = preferredMajor;
        this.environment = environment;
    }

    /** How the library is named in messages, for example "cuBLAS". */
    public String name() {
        return displayName;
    }

    /** The environment variable that overrides the search, for example {@code EMBER_LIBCUBLAS}. */
    public String environmentVariable() {
        return "EMBER_LIB" + key.toUpperCase(Locale.ROOT);
    }

    /** The system property that overrides the search, for example {@code ember.libcublas}. */
    public String systemProperty() {
        return "ember.lib" + key;
    }

    /** The file names looked for, in the order they are preferred. */
    public List<String> fileNames() {
        return fileNames.apply(safePreferredMajor());
    }

    /** Loads the library if that has not been tried yet; true if it is loaded. Never throws. */
    public boolean isAvailable() {
        try {
            return state().lookup() != null;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /**
     * The library's symbols, loading it on first use.
     *
     * @throws NativeLibraryNotFoundException if it cannot be found or loaded; the message names
     *                                        every place searched
     */
    public SymbolLookup lookup() {
        Loaded state = state();
        if (state.lookup() == null) {
            throw new NativeLibraryNotFoundException(displayName, state.failure(), state.searched());
        }
        return state.lookup();
    }

    /** The file the library was loaded from; empty if not loaded or found by the dynamic loader's own search. */
    public Optional<Path> path() {
        try {
            return Optional.ofNullable(state().path());
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }

    /**
     * One line: where the library came from ("/path/to/file" or the dynamic loader), or that it
     * could not be loaded (the full search report is in {@link #lookup()}'s exception).
     */
    public String describe() {
        try {
            Loaded state = state();
            if (state.lookup() != null) {
                return state.source();
            }
            String failure = state.failure();
            int newline = failure.indexOf('\n');
            return "not loaded: " + (newline < 0 ? failure : failure.substring(0, newline));
        } catch (RuntimeException | LinkageError e) {
            return "not loaded: " + e;
        }
    }

    private Loaded state() {
        Loaded state = loaded;
        if (state == null) {
            synchronized (this) {
                state = loaded;
                if (state == null) {
                    state = load();
                    loaded = state;
                }
            }
        }
        return state;
    }

    @SuppressWarnings("restricted") // binding native code is what this module is for
    private Loaded load() {
        for (NativeLibrary dependency : dependencies.get()) {
            dependency.isAvailable();
        }
        List<String> names = fileNames();
        String propertyValue = environment.property(systemProperty());
        String envValue = environment.getenv(environmentVariable());
        if (propertyValue != null) {
            return loadOverride("system property " + systemProperty() + "=" + propertyValue, propertyValue, names);
        }
        if (envValue != null) {
            return loadOverride("environment variable " + environmentVariable() + "=" + envValue, envValue, names);
        }

        List<String> searched = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        searched.add("system property " + systemProperty() + " (not set)");
        searched.add("environment variable " + environmentVariable() + " (not set)");
        LibrarySearchPath searchPath = new LibrarySearchPath(environment);
        for (LibrarySearchPath.Place place : searchPath.places()) {
            searched.add(place.description() + (place.directories().isEmpty() ? " (absent)" : ""));
        }
        List<Path> directories = searchPath.directories();
        for (String name : names) {
            for (Path dir : directories) {
                Path file = dir.resolve(name);
                if (Files.isRegularFile(file)) {
                    Loaded result = tryLoad(file, problems, searched);
                    if (result != null) {
                        return result;
                    }
                }
            }
        }
        if (searchPath.systemLoaderFallback()) {
            for (String name : names) {
                searched.add("the dynamic loader's own search (ld.so.cache) for " + name);
                try {
                    SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
                    return new Loaded(lookup, null, "dynamic loader: " + name, null, searched);
                } catch (RuntimeException e) {
                    // Not known to the dynamic loader either; reported with the rest below.
                }
            }
        }
        return failed(names, searched, problems, null);
    }

    private Loaded loadOverride(String source, String value, List<String> names) {
        List<String> searched = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        searched.add(source);
        Path path = Path.of(value);
        List<Path> candidates = new ArrayList<>();
        if (Files.isDirectory(path)) {
            for (String name : names) {
                if (Files.isRegularFile(path.resolve(name))) {
                    candidates.add(path.resolve(name));
                }
            }
            if (candidates.isEmpty()) {
                return failed(names, searched, problems,
                        source + " names a folder that holds none of " + String.join(", ", names));
            }
        } else if (Files.isRegularFile(path)) {
            candidates.add(path);
        } else {
            return failed(names, searched, problems, source + " names a file that does not exist");
        }
        for (Path candidate : candidates) {
            Loaded result = tryLoad(candidate, problems, searched);
            if (result != null) {
                return result;
            }
        }
        return failed(names, searched, problems, null);
    }

    /** Loads one candidate file after its companions; null (and a recorded problem) if it fails. */
    @SuppressWarnings("restricted") // binding native code is what this module is for
    private Loaded tryLoad(Path file, List<String> problems, List<String> searched) {
        Path dir = file.getParent();
        for (String companion : companions.apply(file.getFileName().toString())) {
            for (Path companionFile : matching(dir, companion)) {
                try {
                    SymbolLookup.libraryLookup(companionFile, Arena.global());
                } catch (RuntimeException e) {
                    // Best effort: the library itself reports what it cannot find when it needs it.
                }
            }
        }
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(file, Arena.global());
            return new Loaded(lookup, file, file.toString(), null, searched);
        } catch (RuntimeException e) {
            problems.add(file + ": " + DynamicLoaderDiagnostics.explain(file, e.getMessage()));
            return null;
        }
    }

    private Loaded failed(List<String> names, List<String> searched, List<String> problems, String reason) {
        StringBuilder sb = new StringBuilder();
        sb.append(displayName).append(" library not found");
        if (reason != null) {
            sb.append(": ").append(reason);
        }
        sb.append(". Looked for ").append(String.join(", ", names)).append(" in, in order:");
        for (String place : searched) {
            sb.append("\n  - ").append(place);
        }
        if (!problems.isEmpty()) {
            sb.append("\nFound but could not load:");
            for (String problem : problems) {
                sb.append("\n  - ").append(problem);
            }
        }
        sb.append("\nSet ").append(environmentVariable()).append(" or -D").append(systemProperty())
                .append(" to the library file or its folder.");
        return new Loaded(null, null, null, sb.toString(), List.copyOf(searched));
    }

    /** Files in dir matching a name that may end in '*'; sorted so results are stable. */
    private static List<Path> matching(Path dir, String pattern) {
        if (dir == null) {
            return List.of();
        }
        if (!pattern.contains("*")) {
            Path file = dir.resolve(pattern);
            return Files.isRegularFile(file) ? List.of(file) : List.of();
        }
        List<Path> matches = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, pattern)) {
            for (Path entry : entries) {
                if (Files.isRegularFile(entry)) {
                    matches.add(entry);
                }
            }
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        matches.sort(null);
        return matches;
    }

    private int safePreferredMajor() {
        try {
            return preferredMajor.getAsInt();
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }

    /**
     * Names for a library shipped per CUDA major: the preferred major first, then the others
     * newest first, then the unversioned development link.
     */
    static List<String> versionedNames(String base, int preferredMajor) {
        List<String> names = new ArrayList<>();
        if (TOOLKIT_MAJORS.contains(preferredMajor)) {
            names.add(base + "." + preferredMajor);
        }
        for (int major : TOOLKIT_MAJORS) {
            if (major != preferredMajor) {
                names.add(base + "." + major);
            }
        }
        names.add(base);
        return names;
    }

    /** ".13" for "libcublas.so.13", "" for "libcublas.so". */
    private static String versionSuffix(String fileName) {
        int so = fileName.indexOf(".so");
        return so < 0 ? "" : fileName.substring(so + 3);
    }

    /** The installed driver's CUDA major version, or 0 if there is no usable driver. */
    private static int driverMajor() {
        if (!CUDA_DRIVER.isAvailable()) {
            return 0;
        }
        try {
            return CudaDriver.driverVersion() / 1000;
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }
}

package dev.ember.ffi;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The directories searched for CUDA libraries, in order, as DESIGN.md lays them out:
 * {@code LD_LIBRARY_PATH}, the CUDA toolkit folders, the system library folders, and the
 * {@code nvidia/*}{@code /lib} folders that pip's CUDA wheels install into Python's
 * site-packages. Python itself is never run: site-packages folders are found by scanning
 * the usual filesystem patterns.
 *
 * <p>Everything that depends on the machine comes from an {@link Environment}, so tests can
 * point the search at a temporary folder.
 */
final class LibrarySearchPath {

    /**
     * Where the search reads the machine's state from.
     *
     * @param env                  environment variables
     * @param properties           system properties
     * @param root                 prefix for the fixed absolute folders ("/" normally; a temporary
     *                             folder in tests, so the real system folders are not seen)
     * @param systemLoaderFallback whether, after the folders, the dynamic loader's own search
     *                             (ld.so.cache) is asked by bare file name
     */
    record Environment(Function<String, String> env, Function<String, String> properties, Path root,
                       boolean systemLoaderFallback) {

        static Environment system() {
            return new Environment(System::getenv, System::getProperty, Path.of("/"), true);
        }

        static Environment of(Map<String, String> env, Map<String, String> properties, Path root) {
            return new Environment(env::get, properties::get, root, false);
        }

        String getenv(String name) {
            String value = env.apply(name);
            return value == null || value.isBlank() ? null : value;
        }

        String property(String name) {
            String value = properties.apply(name);
            return value == null || value.isBlank() ? null : value;
        }
    }

    /** One entry of the search: a pattern as written, and the folders it stood for. */
    record Place(String description, List<Path> directories) {
    }

    private final Environment environment;

    LibrarySearchPath(Environment environment) {
        this.environment = environment;
    }

    /** The places to search, in order; each names its pattern and the folders it matched. */
    List<Place> places() {
        List<Place> places = new ArrayList<>();
        String ldLibraryPath = environment.getenv("LD_LIBRARY_PATH");
        if (ldLibraryPath != null) {
            for (String entry : ldLibraryPath.split(":")) {
                if (!entry.isBlank()) {
                    addPattern(places, "LD_LIBRARY_PATH entry ", entry, false);
                }
            }
        }
        for (String variable : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home = environment.getenv(variable);
            if (home != null) {
                addPattern(places, variable + " ", home + "/lib64", false);
                addPattern(places, variable + " ", home + "/lib", false);
            }
        }
        String target = targetTriple();
        for (String pattern : List.of(
                "/usr/local/cuda/lib64",
                "/usr/local/cuda/targets/" + target + "/lib",
                "/usr/local/cuda-*/lib64",
                "/usr/local/cuda-*/targets/" + target + "/lib")) {
            addPattern(places, "", pattern, true);
        }
        String multiarch = multiarchTriple();
        for (String pattern : List.of(
                "/usr/lib/" + multiarch,
                "/lib/" + multiarch,
                "/usr/lib64",
                "/lib64",
                "/usr/lib",
                "/lib",
                "/usr/local/lib",
                "/usr/local/nvidia/lib64",
                "/usr/local/nvidia/lib",
                "/usr/lib/wsl/lib")) {
            addPattern(places, "", pattern, true);
        }
        for (SitePackages site : sitePackagesPatterns()) {
            addPattern(places, "python ", site.pattern() + "/nvidia/*/lib", site.underRoot());
            addPattern(places, "python ", site.pattern() + "/nvidia/*/lib64", site.underRoot());
            addPattern(places, "python ", site.pattern() + "/torch/lib", site.underRoot());
        }
        return places;
    }

    /** The folders of {@link #places()}, in order, without repeats. */
    List<Path> directories() {
        Set<Path> seen = new LinkedHashSet<>();
        for (Place place : places()) {
            for (Path dir : place.directories()) {
                seen.add(dir.toAbsolutePath().normalize());
            }
        }
        return List.copyOf(seen);
    }

    boolean systemLoaderFallback() {
        return environment.systemLoaderFallback();
    }

    /** A site-packages folder pattern; fixed ones are resolved under the environment's root. */
    private record SitePackages(String pattern, boolean underRoot) {
    }

    /** Site-packages folder patterns: the active virtualenv and conda first, then per-user, then system installs. */
    private List<SitePackages> sitePackagesPatterns() {
        List<SitePackages> patterns = new ArrayList<>();
        for (String variable : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String prefix = environment.getenv(variable);
            if (prefix != null) {
                patterns.add(new SitePackages(prefix + "/lib/python3*/site-packages", false));
            }
        }
        String home = environment.getenv("HOME");
        if (home == null) {
            home = environment.property("user.home");
        }
        if (home != null) {
            // pip --user, then the usual per-user virtualenv, pyenv and conda installs.
            for (String userPattern : List.of(
                    "/.local/lib/python3*/site-packages",
                    "/.venv/lib/python3*/site-packages",
                    "/.pyenv/versions/*/lib/python3*/site-packages",
                    "/miniconda3/lib/python3*/site-packages",
                    "/miniforge3/lib/python3*/site-packages",
                    "/anaconda3/lib/python3*/site-packages")) {
                patterns.add(new SitePackages(home + userPattern, false));
            }
        }
        for (String fixed : List.of(
                "/usr/local/lib/python3*/dist-packages",
                "/usr/local/lib/python3*/site-packages",
                "/usr/lib/python3/dist-packages",
                "/usr/lib/python3*/dist-packages",
                "/usr/lib/python3*/site-packages",
                "/opt/venv/lib/python3*/site-packages",
                "/venv/lib/python3*/site-packages",
                "/opt/conda/lib/python3*/site-packages",
                "/opt/conda/envs/*/lib/python3*/site-packages")) {
            patterns.add(new SitePackages(fixed, true));
        }
        return patterns;
    }

    /**
     * Adds one pattern. Patterns from fixed locations are resolved under the environment's root;
     * patterns built from environment variables are taken as they are.
     */
    private void addPattern(List<Place> places, String label, String pattern, boolean underRoot) {
        String resolved = pattern;
        if (underRoot) {
            Path root = environment.root();
            if (!root.equals(Path.of("/"))) {
                resolved = root.toString() + pattern;
            }
        }
        places.add(new Place(label + resolved, expand(resolved)));
    }

    /** Expands '*' and '?' in any path segment into the existing folders that match, newest-looking first. */
    static List<Path> expand(String pattern) {
        if (pattern.isBlank()) {
            return List.of();
        }
        Path start = pattern.startsWith("/") ? Path.of("/") : Path.of("").toAbsolutePath();
        List<Path> current = List.of(start);
        for (String segment : pattern.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            List<Path> next = new ArrayList<>();
            boolean wildcard = segment.indexOf('*') >= 0 || segment.indexOf('?') >= 0;
            for (Path dir : current) {
                if (!wildcard) {
                    Path child = dir.resolve(segment);
                    if (Files.isDirectory(child)) {
                        next.add(child);
                    }
                    continue;
                }
                PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + segment);
                List<Path> matches = new ArrayList<>();
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                    for (Path entry : entries) {
                        if (matcher.matches(entry.getFileName()) && Files.isDirectory(entry)) {
                            matches.add(entry);
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // An unreadable folder contributes nothing; the search goes on elsewhere.
                }
                matches.sort(Comparator.comparing((Path p) -> p.getFileName().toString(),
                        LibrarySearchPath::compareNatural).reversed());
                next.addAll(matches);
            }
            current = next;
            if (current.isEmpty()) {
                break;
            }
        }
        return List.copyOf(current);
    }

    /** Orders names with embedded numbers by value, so "python3.12" sorts after "python3.9". */
    static int compareNatural(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i;
                int sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && Character.isDigit(b.charAt(j))) {
                    j++;
                }
                String na = a.substring(si, i).replaceFirst("^0+(?=.)", "");
                String nb = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
                if (na.length() != nb.length()) {
                    return Integer.compare(na.length(), nb.length());
                }
                int c = na.compareTo(nb);
                if (c != 0) {
                    return c;
                }
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    private static String multiarchTriple() {
        return isArm() ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
    }

    private static String targetTriple() {
        return isArm() ? "sbsa-linux" : "x86_64-linux";
    }

    private static boolean isArm() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return arch.equals("aarch64") || arch.equals("arm64");
    }
}

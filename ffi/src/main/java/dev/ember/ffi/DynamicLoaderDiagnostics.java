package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Why the dynamic loader refused a library. {@link SymbolLookup#libraryLookup} only says
 * "Cannot open library"; asking {@code dlopen} again and reading {@code dlerror} gives the
 * reason a user can act on, such as a dependency that is not on the search path.
 */
final class DynamicLoaderDiagnostics {

    private static final int RTLD_LAZY = 0x1;

    private DynamicLoaderDiagnostics() {
    }

    /** dlerror's account of loading the file, or the fallback when it cannot be had. */
    @SuppressWarnings("restricted") // calling the C library's loader is the point
    static String explain(Path file, String fallback) {
        try {
            Optional<MemorySegment> dlopen = find("dlopen");
            Optional<MemorySegment> dlerror = find("dlerror");
            Optional<MemorySegment> dlclose = find("dlclose");
            if (dlopen.isEmpty() || dlerror.isEmpty() || dlclose.isEmpty()) {
                return fallback;
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle open = linker.downcallHandle(dlopen.get(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            MethodHandle error = linker.downcallHandle(dlerror.get(), FunctionDescriptor.of(ADDRESS));
            MethodHandle close = linker.downcallHandle(dlclose.get(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment handle = (MemorySegment) open.invokeExact(arena.allocateFrom(file.toString()), RTLD_LAZY);
                if (!handle.equals(MemorySegment.NULL)) {
                    int ignored = (int) close.invokeExact(handle);
                    return fallback + " (a second attempt succeeded; the first failure may have been transient)";
                }
                String reason = NativeSupport.cString((MemorySegment) error.invokeExact());
                return reason == null || reason.isBlank() ? fallback : reason;
            }
        } catch (Throwable t) {
            return fallback;
        }
    }

    @SuppressWarnings("restricted")
    private static Optional<MemorySegment> find(String symbol) {
        Optional<MemorySegment> address = Linker.nativeLinker().defaultLookup().find(symbol);
        if (address.isEmpty()) {
            // glibc before 2.34 keeps the loader's functions in libdl.
            try {
                address = SymbolLookup.libraryLookup("libdl.so.2", Arena.global()).find(symbol);
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
        return address;
    }
}

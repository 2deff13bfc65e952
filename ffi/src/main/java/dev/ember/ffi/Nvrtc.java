package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NVRTC, CUDA's runtime compiler, as static methods: CUDA C++ source in, PTX or CUBIN out,
 * ready for {@link CudaDriver#moduleLoadData(byte[])}. Programs are {@code long} handles.
 *
 * <pre>{@code
 * byte[] ptx = Nvrtc.compileToPtx(source, "saxpy.cu", "--gpu-architecture=compute_90");
 * long module = CudaDriver.moduleLoadData(ptx);
 * }</pre>
 *
 * Every status is checked; a compile error throws {@link CudaException} whose text holds
 * the compiler's log.
 */
public final class Nvrtc {

    /** NVRTC_SUCCESS. */
    public static final int NVRTC_SUCCESS = 0;
    /** NVRTC_ERROR_COMPILATION: the source did not compile; the program log says why. */
    public static final int NVRTC_ERROR_COMPILATION = 6;

    private Nvrtc() {
    }

    private static final class H {
        static final MethodHandle nvrtcVersion = bind(NvrtcFunctions.nvrtcVersion);
        static final MethodHandle nvrtcCreateProgram = bind(NvrtcFunctions.nvrtcCreateProgram);
        static final MethodHandle nvrtcDestroyProgram = bind(NvrtcFunctions.nvrtcDestroyProgram);
        static final MethodHandle nvrtcCompileProgram = bind(NvrtcFunctions.nvrtcCompileProgram);
        static final MethodHandle nvrtcGetPTXSize = bind(NvrtcFunctions.nvrtcGetPTXSize);
        static final MethodHandle nvrtcGetPTX = bind(NvrtcFunctions.nvrtcGetPTX);
        static final MethodHandle nvrtcGetCUBINSize = bind(NvrtcFunctions.nvrtcGetCUBINSize);
        static final MethodHandle nvrtcGetCUBIN = bind(NvrtcFunctions.nvrtcGetCUBIN);
        static final MethodHandle nvrtcGetProgramLogSize = bind(NvrtcFunctions.nvrtcGetProgramLogSize);
        static final MethodHandle nvrtcGetProgramLog = bind(NvrtcFunctions.nvrtcGetProgramLog);
        static final MethodHandle nvrtcAddNameExpression = bind(NvrtcFunctions.nvrtcAddNameExpression);
        static final MethodHandle nvrtcGetLoweredName = bind(NvrtcFunctions.nvrtcGetLoweredName);
        static final MethodHandle nvrtcGetErrorString = bind(NvrtcFunctions.nvrtcGetErrorString);

        private static MethodHandle bind(NativeFunction function) {
            return function.bind(NativeLibrary.NVRTC, CudaException.Api.NVRTC);
        }
    }

    /** NVRTC's name for a result code, for example {@code NVRTC_ERROR_COMPILATION}. */
    public static String errorString(int result) {
        try {
            String text = NativeSupport.cString((MemorySegment) H.nvrtcGetErrorString.invokeExact(result));
            if (text != null) {
                return text;
            }
        } catch (Throwable t) {
            // Fall through.
        }
        return "NVRTC_ERROR_UNKNOWN_" + result;
    }

    private static void check(int result, NativeFunction function) {
        check(result, function, null);
    }

    private static void check(int result, NativeFunction function, String detail) {
        if (result != NVRTC_SUCCESS) {
            String name = errorString(result);
            String text = detail == null || detail.isBlank() ? name : detail;
            throw new CudaException(CudaException.Api.NVRTC, function.symbol(), result, name, text);
        }
    }

    /** The NVRTC version as {major, minor}. */
    public static int[] version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT);
            MemorySegment minor = arena.allocate(JAVA_INT);
            check((int) H.nvrtcVersion.invokeExact(major, minor), NvrtcFunctions.nvrtcVersion);
            return new int[] {major.get(JAVA_INT, 0), minor.get(JAVA_INT, 0)};
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Creates a program from CUDA C++ source; name appears in diagnostics (for example "fused_add.cu"). */
    public static long createProgram(String source, String name) {
        return createProgram(source, name, Map.of());
    }

    /**
     * Creates a program whose source may {@code #include} the given headers, keyed by the name
     * used in the include directive. Destroy it with {@link #destroyProgram}.
     */
    public static long createProgram(String source, String name, Map<String, String> headers) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            List<Map.Entry<String, String>> entries = new ArrayList<>(new LinkedHashMap<>(headers).entrySet());
            MemorySegment headerSources = MemorySegment.NULL;
            MemorySegment includeNames = MemorySegment.NULL;
            if (!entries.isEmpty()) {
                headerSources = arena.allocate(ADDRESS, entries.size());
                includeNames = arena.allocate(ADDRESS, entries.size());
                for (int i = 0; i < entries.size(); i++) {
                    includeNames.setAtIndex(ADDRESS, i, arena.allocateFrom(entries.get(i).getKey()));
                    headerSources.setAtIndex(ADDRESS, i, arena.allocateFrom(entries.get(i).getValue()));
                }
            }
            check((int) H.nvrtcCreateProgram.invokeExact(out, arena.allocateFrom(source), arena.allocateFrom(name),
                    entries.size(), headerSources, includeNames), NvrtcFunctions.nvrtcCreateProgram);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /**
     * Compiles the program with options such as {@code --gpu-architecture=compute_90} (PTX) or
     * {@code --gpu-architecture=sm_90} (CUBIN), {@code -default-device}, {@code --std=c++17}.
     * A failure throws with the compiler's log in the exception's text.
     */
    public static void compileProgram(long program, String... options) {
        int result;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment optionArray = MemorySegment.NULL;
            if (options.length > 0) {
                optionArray = arena.allocate(ADDRESS, options.length);
                for (int i = 0; i < options.length; i++) {
                    optionArray.setAtIndex(ADDRESS, i, arena.allocateFrom(options[i]));
                }
            }
            result = (int) H.nvrtcCompileProgram.invokeExact(program, options.length, optionArray);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        if (result != NVRTC_SUCCESS) {
            String log;
            try {
                log = getProgramLog(program);
            } catch (CudaException e) {
                log = "(the program log could not be read: " + e.getMessage() + ")";
            }
            check(result, NvrtcFunctions.nvrtcCompileProgram, "compiler log:\n" + log);
        }
    }

    /** The log of the last compilation (warnings even when it succeeded). */
    public static String getProgramLog(long program) {
        byte[] log = fetch(program, H.nvrtcGetProgramLogSize, NvrtcFunctions.nvrtcGetProgramLogSize,
                H.nvrtcGetProgramLog, NvrtcFunctions.nvrtcGetProgramLog);
        int length = log.length;
        while (length > 0 && log[length - 1] == 0) {
            length--;
        }
        return new String(log, 0, length, StandardCharsets.UTF_8);
    }

    /** The PTX produced by the last compilation, with its terminating NUL, ready for {@link CudaDriver#moduleLoadData}. */
    public static byte[] getPTX(long program) {
        return fetch(program, H.nvrtcGetPTXSize, NvrtcFunctions.nvrtcGetPTXSize,
                H.nvrtcGetPTX, NvrtcFunctions.nvrtcGetPTX);
    }

    /** The CUBIN produced by the last compilation; empty when it was compiled for a virtual architecture. */
    public static byte[] getCUBIN(long program) {
        return fetch(program, H.nvrtcGetCUBINSize, NvrtcFunctions.nvrtcGetCUBINSize,
                H.nvrtcGetCUBIN, NvrtcFunctions.nvrtcGetCUBIN);
    }

    /** Registers a name expression (for example {@code "&kernel<float>"}) before compiling, to look up its mangled name after. */
    public static void addNameExpression(long program, String nameExpression) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.nvrtcAddNameExpression.invokeExact(program, arena.allocateFrom(nameExpression)),
                    NvrtcFunctions.nvrtcAddNameExpression);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The mangled name of a registered name expression, for {@link CudaDriver#moduleGetFunction}. */
    public static String getLoweredName(long program, String nameExpression) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) H.nvrtcGetLoweredName.invokeExact(program, arena.allocateFrom(nameExpression), out),
                    NvrtcFunctions.nvrtcGetLoweredName);
            return NativeSupport.cString(out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Destroys a program. */
    public static void destroyProgram(long program) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment holder = arena.allocateFrom(JAVA_LONG, program);
            check((int) H.nvrtcDestroyProgram.invokeExact(holder), NvrtcFunctions.nvrtcDestroyProgram);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Compiles source to PTX (NUL-terminated) in one step; options should name a virtual architecture. */
    public static byte[] compileToPtx(String source, String name, String... options) {
        long program = createProgram(source, name);
        try {
            compileProgram(program, options);
            return getPTX(program);
        } finally {
            destroyProgram(program);
        }
    }

    /** Compiles source to CUBIN in one step; options must name a real architecture such as {@code sm_90}. */
    public static byte[] compileToCubin(String source, String name, String... options) {
        long program = createProgram(source, name);
        try {
            compileProgram(program, options);
            return getCUBIN(program);
        } finally {
            destroyProgram(program);
        }
    }

    /** Asks a size, then fills a buffer of that size: the two-call pattern NVRTC uses for all its outputs. */
    private static byte[] fetch(long program, MethodHandle sizeHandle, NativeFunction sizeFunction,
                                MethodHandle dataHandle, NativeFunction dataFunction) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            check((int) sizeHandle.invokeExact(program, size), sizeFunction);
            long bytes = size.get(JAVA_LONG, 0);
            if (bytes <= 0) {
                return new byte[0];
            }
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException(dataFunction.symbol() + ": output of " + bytes + " bytes is too large");
            }
            MemorySegment buffer = arena.allocate(bytes);
            check((int) dataHandle.invokeExact(program, buffer), dataFunction);
            return buffer.toArray(JAVA_BYTE);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }
}

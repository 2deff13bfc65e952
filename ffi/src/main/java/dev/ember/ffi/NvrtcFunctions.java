package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The table of every NVRTC function {@link Nvrtc} binds, checked against {@code nvrtc.h}
 * (CUDA 12 and 13). Functions return {@code nvrtcResult} (an enum, {@code int}); the
 * program handle is bound as {@code long}; strings and out-parameters as {@code ADDRESS}.
 */
final class NvrtcFunctions {

    private static final List<NativeFunction> ALL_FUNCTIONS = new ArrayList<>();

    /** Every binding, in declaration order. */
    static final List<NativeFunction> ALL = Collections.unmodifiableList(ALL_FUNCTIONS);

    private static final MemoryLayout RESULT = JAVA_INT; // nvrtcResult
    private static final MemoryLayout PROGRAM = JAVA_LONG; // nvrtcProgram
    private static final MemoryLayout INT = JAVA_INT;
    private static final MemoryLayout PTR = ADDRESS;

    static final NativeFunction nvrtcVersion = fn("nvrtcVersion", PTR, PTR);
    static final NativeFunction nvrtcCreateProgram = fn("nvrtcCreateProgram", PTR, PTR, PTR, INT, PTR, PTR);
    static final NativeFunction nvrtcDestroyProgram = fn("nvrtcDestroyProgram", PTR);
    static final NativeFunction nvrtcCompileProgram = fn("nvrtcCompileProgram", PROGRAM, INT, PTR);
    static final NativeFunction nvrtcGetPTXSize = fn("nvrtcGetPTXSize", PROGRAM, PTR);
    static final NativeFunction nvrtcGetPTX = fn("nvrtcGetPTX", PROGRAM, PTR);
    static final NativeFunction nvrtcGetCUBINSize = fn("nvrtcGetCUBINSize", PROGRAM, PTR);
    static final NativeFunction nvrtcGetCUBIN = fn("nvrtcGetCUBIN", PROGRAM, PTR);
    static final NativeFunction nvrtcGetProgramLogSize = fn("nvrtcGetProgramLogSize", PROGRAM, PTR);
    static final NativeFunction nvrtcGetProgramLog = fn("nvrtcGetProgramLog", PROGRAM, PTR);
    static final NativeFunction nvrtcAddNameExpression = fn("nvrtcAddNameExpression", PROGRAM, PTR);
    static final NativeFunction nvrtcGetLoweredName = fn("nvrtcGetLoweredName", PROGRAM, PTR, PTR);
    // const char* nvrtcGetErrorString(nvrtcResult): a table look-up, never blocks.
    static final NativeFunction nvrtcGetErrorString = register(new NativeFunction("nvrtcGetErrorString",
            List.of(), FunctionDescriptor.of(ADDRESS, INT), true));

    private NvrtcFunctions() {
    }

    private static NativeFunction fn(String symbol, MemoryLayout... args) {
        return register(new NativeFunction(symbol, List.of(), FunctionDescriptor.of(RESULT, args), false));
    }

    private static NativeFunction register(NativeFunction function) {
        ALL_FUNCTIONS.add(function);
        return function;
    }
}

package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The one table of every driver-API function {@link CudaDriver} binds, with its C signature.
 * Nothing here loads a library, so the signature test can compare each entry with the
 * prototypes in cuda.h on a machine without a GPU.
 *
 * <p>Conventions: every function returns {@code CUresult} (an enum, bound as {@code int}).
 * Opaque handles ({@code CUstream}, {@code CUevent}, {@code CUcontext}, ...) and device
 * pointers ({@code CUdeviceptr}) are bound as {@code long}: same width and register class as
 * a pointer on the 64-bit ABIs CUDA supports, and Java code keeps them as plain longs.
 * Pointers into host memory (out-parameters, buffers) are bound as {@code ADDRESS}.
 * Symbols are the ones cuda.h's {@code #define} block maps the API names to
 * ({@code cuMemAlloc} is exported as {@code cuMemAlloc_v2}, and so on).
 */
final class DriverFunctions {

    private static final List<NativeFunction> ALL_FUNCTIONS = new ArrayList<>();

    /** Every binding, in declaration order. */
    static final List<NativeFunction> ALL = Collections.unmodifiableList(ALL_FUNCTIONS);

    private static final MemoryLayout RESULT = JAVA_INT; // CUresult
    private static final MemoryLayout HANDLE = JAVA_LONG; // CUstream, CUevent, CUcontext, CUmodule, ...
    private static final MemoryLayout DEVPTR = JAVA_LONG; // CUdeviceptr
    private static final MemoryLayout SIZE = JAVA_LONG; // size_t
    private static final MemoryLayout INT = JAVA_INT; // int, unsigned int, CUdevice, enums
    private static final MemoryLayout PTR = ADDRESS; // host pointers

    // Errors: pure table look-ups, never block.
    static final NativeFunction cuGetErrorName = critical("cuGetErrorName", INT, PTR);
    static final NativeFunction cuGetErrorString = critical("cuGetErrorString", INT, PTR);

    // Initialisation and devices.
    static final NativeFunction cuInit = fn("cuInit", INT);
    static final NativeFunction cuDriverGetVersion = fn("cuDriverGetVersion", PTR);
    static final NativeFunction cuDeviceGetCount = fn("cuDeviceGetCount", PTR);
    static final NativeFunction cuDeviceGet = fn("cuDeviceGet", PTR, INT);
    static final NativeFunction cuDeviceGetName = fn("cuDeviceGetName", PTR, INT, INT);
    static final NativeFunction cuDeviceTotalMem = fn("cuDeviceTotalMem_v2", PTR, INT);
    static final NativeFunction cuDeviceGetAttribute = fn("cuDeviceGetAttribute", PTR, INT, INT);

    // Contexts.
    static final NativeFunction cuDevicePrimaryCtxRetain = fn("cuDevicePrimaryCtxRetain", PTR, INT);
    static final NativeFunction cuDevicePrimaryCtxRelease = fn("cuDevicePrimaryCtxRelease_v2", INT);
    static final NativeFunction cuCtxSetCurrent = fn("cuCtxSetCurrent", HANDLE);
    // Reads a thread-local; never blocks.
    static final NativeFunction cuCtxGetCurrent = critical("cuCtxGetCurrent", PTR);
    static final NativeFunction cuCtxSynchronize = fn("cuCtxSynchronize");
    static final NativeFunction cuCtxGetStreamPriorityRange = fn("cuCtxGetStreamPriorityRange", PTR, PTR);

    // Streams.
    static final NativeFunction cuStreamCreate = fn("cuStreamCreate", PTR, INT);
    static final NativeFunction cuStreamCreateWithPriority = fn("cuStreamCreateWithPriority", PTR, INT, INT);
    static final NativeFunction cuStreamDestroy = fn("cuStreamDestroy_v2", HANDLE);
    static final NativeFunction cuStreamSynchronize = fn("cuStreamSynchronize", HANDLE);
    // Documented as a non-blocking status check.
    static final NativeFunction cuStreamQuery = critical("cuStreamQuery", HANDLE);
    static final NativeFunction cuStreamWaitEvent = fn("cuStreamWaitEvent", HANDLE, HANDLE, INT);
    static final NativeFunction cuStreamBeginCapture = fn("cuStreamBeginCapture_v2", HANDLE, INT);
    static final NativeFunction cuStreamEndCapture = fn("cuStreamEndCapture", HANDLE, PTR);
    static final NativeFunction cuStreamIsCapturing = fn("cuStreamIsCapturing", HANDLE, PTR);

    // Events.
    static final NativeFunction cuEventCreate = fn("cuEventCreate", PTR, INT);
    // Recording can wait for room in the launch queue, so it is not critical.
    static final NativeFunction cuEventRecord = fn("cuEventRecord", HANDLE, HANDLE);
    static final NativeFunction cuEventSynchronize = fn("cuEventSynchronize", HANDLE);
    // Documented as a non-blocking status check.
    static final NativeFunction cuEventQuery = critical("cuEventQuery", HANDLE);
    // cuda.h 12.8+ maps cuEventElapsedTime to _v2; drivers from 12.0 to 12.7 export only the
    // original, whose C signature is the same.
    static final NativeFunction cuEventElapsedTime = withFallback("cuEventElapsedTime_v2", "cuEventElapsedTime",
            PTR, HANDLE, HANDLE);
    static final NativeFunction cuEventDestroy = fn("cuEventDestroy_v2", HANDLE);

    // Memory.
    static final NativeFunction cuMemAlloc = fn("cuMemAlloc_v2", PTR, SIZE);
    static final NativeFunction cuMemFree = fn("cuMemFree_v2", DEVPTR);
    static final NativeFunction cuMemAllocHost = fn("cuMemAllocHost_v2", PTR, SIZE);
    static final NativeFunction cuMemFreeHost = fn("cuMemFreeHost", PTR);
    static final NativeFunction cuMemGetInfo = fn("cuMemGetInfo_v2", PTR, PTR);
    static final NativeFunction cuMemcpyHtoD = fn("cuMemcpyHtoD_v2", DEVPTR, PTR, SIZE);
    static final NativeFunction cuMemcpyDtoH = fn("cuMemcpyDtoH_v2", PTR, DEVPTR, SIZE);
    static final NativeFunction cuMemcpyDtoD = fn("cuMemcpyDtoD_v2", DEVPTR, DEVPTR, SIZE);
    static final NativeFunction cuMemcpyHtoDAsync = fn("cuMemcpyHtoDAsync_v2", DEVPTR, PTR, SIZE, HANDLE);
    static final NativeFunction cuMemcpyDtoHAsync = fn("cuMemcpyDtoHAsync_v2", PTR, DEVPTR, SIZE, HANDLE);
    static final NativeFunction cuMemcpyDtoDAsync = fn("cuMemcpyDtoDAsync_v2", DEVPTR, DEVPTR, SIZE, HANDLE);
    static final NativeFunction cuMemsetD8 = fn("cuMemsetD8_v2", DEVPTR, JAVA_BYTE, SIZE);
    static final NativeFunction cuMemsetD32 = fn("cuMemsetD32_v2", DEVPTR, INT, SIZE);
    static final NativeFunction cuMemsetD8Async = fn("cuMemsetD8Async", DEVPTR, JAVA_BYTE, SIZE, HANDLE);
    static final NativeFunction cuMemsetD32Async = fn("cuMemsetD32Async", DEVPTR, INT, SIZE, HANDLE);

    // Modules and kernels.
    static final NativeFunction cuModuleLoadDataEx = fn("cuModuleLoadDataEx", PTR, PTR, INT, PTR, PTR);
    static final NativeFunction cuModuleGetFunction = fn("cuModuleGetFunction", PTR, HANDLE, PTR);
    static final NativeFunction cuModuleUnload = fn("cuModuleUnload", HANDLE);
    static final NativeFunction cuFuncGetAttribute = fn("cuFuncGetAttribute", PTR, INT, HANDLE);
    static final NativeFunction cuFuncSetAttribute = fn("cuFuncSetAttribute", HANDLE, INT, INT);
    // A launch can wait for room in the launch queue, so it is not critical.
    static final NativeFunction cuLaunchKernel = fn("cuLaunchKernel",
            HANDLE, INT, INT, INT, INT, INT, INT, INT, HANDLE, PTR, PTR);
    static final NativeFunction cuOccupancyMaxActiveBlocksPerMultiprocessor =
            fn("cuOccupancyMaxActiveBlocksPerMultiprocessor", PTR, HANDLE, INT, SIZE);

    // Graphs. cuda.h maps cuGraphInstantiate to cuGraphInstantiateWithFlags.
    static final NativeFunction cuGraphInstantiate = fn("cuGraphInstantiateWithFlags", PTR, HANDLE, JAVA_LONG);
    static final NativeFunction cuGraphLaunch = fn("cuGraphLaunch", HANDLE, HANDLE);
    static final NativeFunction cuGraphDestroy = fn("cuGraphDestroy", HANDLE);
    static final NativeFunction cuGraphExecDestroy = fn("cuGraphExecDestroy", HANDLE);

    private DriverFunctions() {
    }

    private static NativeFunction fn(String symbol, MemoryLayout... args) {
        return register(new NativeFunction(symbol, List.of(), FunctionDescriptor.of(RESULT, args), false));
    }

    private static NativeFunction critical(String symbol, MemoryLayout... args) {
        return register(new NativeFunction(symbol, List.of(), FunctionDescriptor.of(RESULT, args), true));
    }

    private static NativeFunction withFallback(String symbol, String fallback, MemoryLayout... args) {
        return register(new NativeFunction(symbol, List.of(fallback), FunctionDescriptor.of(RESULT, args), false));
    }

    private static NativeFunction register(NativeFunction function) {
        ALL_FUNCTIONS.add(function);
        return function;
    }
}

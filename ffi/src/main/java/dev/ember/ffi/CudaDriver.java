package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA driver API ({@code libcuda.so.1}), as static methods.
 *
 * <p>Handles ({@code CUcontext}, {@code CUstream}, {@code CUevent}, {@code CUmodule},
 * {@code CUfunction}, {@code CUgraph}, {@code CUgraphExec}) and device pointers are plain
 * {@code long}s; stream 0 is the legacy default stream. A {@code dev} argument is a
 * {@code CUdevice} from {@link #deviceGet(int)} (on every driver so far equal to the ordinal).
 * Every call's status is checked: anything but success throws {@link CudaException} with
 * the driver's name and text for it.
 *
 * <p>The library is loaded and the functions bound the first time any method here runs; on
 * a machine without a driver each method throws a {@link NativeLibraryNotFoundException}
 * naming the places searched. Check {@link Cuda#isAvailable()} first to avoid that.
 *
 * <p>Most calls need a current context on the calling thread: {@link #ensureContext(int)}
 * retains the device's primary context once and makes it current where it is not.
 */
public final class CudaDriver {

    /** CUDA_SUCCESS. */
    public static final int CUDA_SUCCESS = 0;
    /** CUDA_ERROR_OUT_OF_MEMORY. */
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    /** CUDA_ERROR_NOT_INITIALIZED. */
    public static final int CUDA_ERROR_NOT_INITIALIZED = 3;
    /** CUDA_ERROR_NO_DEVICE. */
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    /** CUDA_ERROR_NOT_READY: work is still pending (returned by queries, not an error). */
    public static final int CUDA_ERROR_NOT_READY = 600;

    /** CU_STREAM_DEFAULT: a stream that synchronises with the legacy default stream. */
    public static final int STREAM_DEFAULT = 0x0;
    /** CU_STREAM_NON_BLOCKING: a stream that does not synchronise with the legacy default stream. */
    public static final int STREAM_NON_BLOCKING = 0x1;

    /** CU_EVENT_DEFAULT. */
    public static final int EVENT_DEFAULT = 0x0;
    /** CU_EVENT_BLOCKING_SYNC: synchronising on the event yields the CPU instead of spinning. */
    public static final int EVENT_BLOCKING_SYNC = 0x1;
    /** CU_EVENT_DISABLE_TIMING: no timestamps, cheaper to record and query. */
    public static final int EVENT_DISABLE_TIMING = 0x2;

    /** CU_STREAM_CAPTURE_MODE_GLOBAL: unsafe calls from any thread invalidate the capture. */
    public static final int STREAM_CAPTURE_MODE_GLOBAL = 0;
    /** CU_STREAM_CAPTURE_MODE_THREAD_LOCAL: only unsafe calls from this thread invalidate the capture. */
    public static final int STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    /** CU_STREAM_CAPTURE_MODE_RELAXED: unsafe calls are not checked. */
    public static final int STREAM_CAPTURE_MODE_RELAXED = 2;

    /** CU_STREAM_CAPTURE_STATUS_NONE. */
    public static final int STREAM_CAPTURE_STATUS_NONE = 0;
    /** CU_STREAM_CAPTURE_STATUS_ACTIVE. */
    public static final int STREAM_CAPTURE_STATUS_ACTIVE = 1;
    /** CU_STREAM_CAPTURE_STATUS_INVALIDATED. */
    public static final int STREAM_CAPTURE_STATUS_INVALIDATED = 2;

    /** CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK. */
    public static final int DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    /** CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X. */
    public static final int DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X = 2;
    /** CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y. */
    public static final int DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y = 3;
    /** CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z. */
    public static final int DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z = 4;
    /** CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X. */
    public static final int DEVICE_ATTRIBUTE_MAX_GRID_DIM_X = 5;
    /** CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y. */
    public static final int DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y = 6;
    /** CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z. */
    public static final int DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z = 7;
    /** CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK (bytes, without opt-in). */
    public static final int DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8;
    /** CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY (bytes). */
    public static final int DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY = 9;
    /** CU_DEVICE_ATTRIBUTE_WARP_SIZE. */
    public static final int DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    /** CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK. */
    public static final int DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK = 12;
    /** CU_DEVICE_ATTRIBUTE_CLOCK_RATE (kHz). */
    public static final int DEVICE_ATTRIBUTE_CLOCK_RATE = 13;
    /** CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT. */
    public static final int DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    /** CU_DEVICE_ATTRIBUTE_INTEGRATED. */
    public static final int DEVICE_ATTRIBUTE_INTEGRATED = 18;
    /** CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS. */
    public static final int DEVICE_ATTRIBUTE_CONCURRENT_KERNELS = 31;
    /** CU_DEVICE_ATTRIBUTE_PCI_BUS_ID. */
    public static final int DEVICE_ATTRIBUTE_PCI_BUS_ID = 33;
    /** CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE (kHz). */
    public static final int DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36;
    /** CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH (bits). */
    public static final int DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37;
    /** CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE (bytes). */
    public static final int DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
    /** CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR. */
    public static final int DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39;
    /** CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT. */
    public static final int DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT = 40;
    /** CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING. */
    public static final int DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING = 41;
    /** CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR. */
    public static final int DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    /** CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR. */
    public static final int DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    /** CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR (bytes). */
    public static final int DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81;
    /** CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN (bytes, with cuFuncSetAttribute). */
    public static final int DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    /** CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED. */
    public static final int DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED = 115;

    /** CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK. */
    public static final int FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
    /** CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES (static shared memory). */
    public static final int FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
    /** CU_FUNC_ATTRIBUTE_NUM_REGS. */
    public static final int FUNC_ATTRIBUTE_NUM_REGS = 4;
    /** CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES. */
    public static final int FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    /** CU_JIT_INFO_LOG_BUFFER and friends, for {@link #moduleLoadData(MemorySegment)}. */
    private static final int JIT_INFO_LOG_BUFFER = 3;
    private static final int JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    private static final int JIT_ERROR_LOG_BUFFER = 5;
    private static final int JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    private static final int JIT_LOG_BYTES = 16 * 1024;

    private static final int DEVICE_NAME_BYTES = 256;

    /** Primary contexts retained by {@link #ensureContext(int)}, by device ordinal; never released. */
    private static final ConcurrentHashMap<Integer, Long> PRIMARY_CONTEXTS = new ConcurrentHashMap<>();

    private static volatile boolean initialized;

    private CudaDriver() {
    }

    /**
     * The bound functions. A nested class so that the library is loaded only when a driver
     * call is first made, never by merely loading {@code CudaDriver}.
     */
    private static final class H {
        static final MethodHandle cuGetErrorName = bind(DriverFunctions.cuGetErrorName);
        static final MethodHandle cuGetErrorString = bind(DriverFunctions.cuGetErrorString);
        static final MethodHandle cuInit = bind(DriverFunctions.cuInit);
        static final MethodHandle cuDriverGetVersion = bind(DriverFunctions.cuDriverGetVersion);
        static final MethodHandle cuDeviceGetCount = bind(DriverFunctions.cuDeviceGetCount);
        static final MethodHandle cuDeviceGet = bind(DriverFunctions.cuDeviceGet);
        static final MethodHandle cuDeviceGetName = bind(DriverFunctions.cuDeviceGetName);
        static final MethodHandle cuDeviceTotalMem = bind(DriverFunctions.cuDeviceTotalMem);
        static final MethodHandle cuDeviceGetAttribute = bind(DriverFunctions.cuDeviceGetAttribute);
        static final MethodHandle cuDevicePrimaryCtxRetain = bind(DriverFunctions.cuDevicePrimaryCtxRetain);
        static final MethodHandle cuDevicePrimaryCtxRelease = bind(DriverFunctions.cuDevicePrimaryCtxRelease);
        static final MethodHandle cuCtxSetCurrent = bind(DriverFunctions.cuCtxSetCurrent);
        static final MethodHandle cuCtxGetCurrent = bind(DriverFunctions.cuCtxGetCurrent);
        static final MethodHandle cuCtxSynchronize = bind(DriverFunctions.cuCtxSynchronize);
        static final MethodHandle cuCtxGetStreamPriorityRange = bind(DriverFunctions.cuCtxGetStreamPriorityRange);
        static final MethodHandle cuStreamCreate = bind(DriverFunctions.cuStreamCreate);
        static final MethodHandle cuStreamCreateWithPriority = bind(DriverFunctions.cuStreamCreateWithPriority);
        static final MethodHandle cuStreamDestroy = bind(DriverFunctions.cuStreamDestroy);
        static final MethodHandle cuStreamSynchronize = bind(DriverFunctions.cuStreamSynchronize);
        static final MethodHandle cuStreamQuery = bind(DriverFunctions.cuStreamQuery);
        static final MethodHandle cuStreamWaitEvent = bind(DriverFunctions.cuStreamWaitEvent);
        static final MethodHandle cuStreamBeginCapture = bind(DriverFunctions.cuStreamBeginCapture);
        static final MethodHandle cuStreamEndCapture = bind(DriverFunctions.cuStreamEndCapture);
        static final MethodHandle cuStreamIsCapturing = bind(DriverFunctions.cuStreamIsCapturing);
        static final MethodHandle cuEventCreate = bind(DriverFunctions.cuEventCreate);
        static final MethodHandle cuEventRecord = bind(DriverFunctions.cuEventRecord);
        static final MethodHandle cuEventSynchronize = bind(DriverFunctions.cuEventSynchronize);
        static final MethodHandle cuEventQuery = bind(DriverFunctions.cuEventQuery);
        static final MethodHandle cuEventElapsedTime = bind(DriverFunctions.cuEventElapsedTime);
        static final MethodHandle cuEventDestroy = bind(DriverFunctions.cuEventDestroy);
        static final MethodHandle cuMemAlloc = bind(DriverFunctions.cuMemAlloc);
        static final MethodHandle cuMemFree = bind(DriverFunctions.cuMemFree);
        static final MethodHandle cuMemAllocHost = bind(DriverFunctions.cuMemAllocHost);
        static final MethodHandle cuMemFreeHost = bind(DriverFunctions.cuMemFreeHost);
        static final MethodHandle cuMemGetInfo = bind(DriverFunctions.cuMemGetInfo);
        static final MethodHandle cuMemcpyHtoD = bind(DriverFunctions.cuMemcpyHtoD);
        static final MethodHandle cuMemcpyDtoH = bind(DriverFunctions.cuMemcpyDtoH);
        static final MethodHandle cuMemcpyDtoD = bind(DriverFunctions.cuMemcpyDtoD);
        static final MethodHandle cuMemcpyHtoDAsync = bind(DriverFunctions.cuMemcpyHtoDAsync);
        static final MethodHandle cuMemcpyDtoHAsync = bind(DriverFunctions.cuMemcpyDtoHAsync);
        static final MethodHandle cuMemcpyDtoDAsync = bind(DriverFunctions.cuMemcpyDtoDAsync);
        static final MethodHandle cuMemsetD8 = bind(DriverFunctions.cuMemsetD8);
        static final MethodHandle cuMemsetD32 = bind(DriverFunctions.cuMemsetD32);
        static final MethodHandle cuMemsetD8Async = bind(DriverFunctions.cuMemsetD8Async);
        static final MethodHandle cuMemsetD32Async = bind(DriverFunctions.cuMemsetD32Async);
        static final MethodHandle cuModuleLoadDataEx = bind(DriverFunctions.cuModuleLoadDataEx);
        static final MethodHandle cuModuleGetFunction = bind(DriverFunctions.cuModuleGetFunction);
        static final MethodHandle cuModuleUnload = bind(DriverFunctions.cuModuleUnload);
        static final MethodHandle cuFuncGetAttribute = bind(DriverFunctions.cuFuncGetAttribute);
        static final MethodHandle cuFuncSetAttribute = bind(DriverFunctions.cuFuncSetAttribute);
        static final MethodHandle cuLaunchKernel = bind(DriverFunctions.cuLaunchKernel);
        static final MethodHandle cuOccupancyMaxActiveBlocksPerMultiprocessor =
                bind(DriverFunctions.cuOccupancyMaxActiveBlocksPerMultiprocessor);
        static final MethodHandle cuGraphInstantiate = bind(DriverFunctions.cuGraphInstantiate);
        static final MethodHandle cuGraphLaunch = bind(DriverFunctions.cuGraphLaunch);
        static final MethodHandle cuGraphDestroy = bind(DriverFunctions.cuGraphDestroy);
        static final MethodHandle cuGraphExecDestroy = bind(DriverFunctions.cuGraphExecDestroy);

        private static MethodHandle bind(NativeFunction function) {
            return function.bind(NativeLibrary.CUDA_DRIVER, CudaException.Api.DRIVER);
        }
    }

    // ---------------------------------------------------------------- errors

    /** The driver's symbolic name for a status, for example {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public static String errorName(int status) {
        return describeStatus(H.cuGetErrorName, status, "CUDA_ERROR_UNKNOWN_CODE_" + status);
    }

    /** The driver's text for a status, for example "out of memory". */
    public static String errorString(int status) {
        return describeStatus(H.cuGetErrorString, status, "unrecognised CUDA error code " + status);
    }

    private static String describeStatus(MethodHandle lookup, int status, String fallback) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int result = (int) lookup.invokeExact(status, out);
            String text = result == CUDA_SUCCESS ? NativeSupport.cString(out.get(ADDRESS, 0)) : null;
            return text != null ? text : fallback;
        } catch (Throwable t) {
            return fallback;
        }
    }

    private static void check(int status, NativeFunction function) {
        if (status != CUDA_SUCCESS) {
            throw failure(status, function, null);
        }
    }

    private static CudaException failure(int status, NativeFunction function, String detail) {
        String text = errorString(status);
        if (detail != null && !detail.isBlank()) {
            text = text + "\n" + detail;
        }
        return new CudaException(CudaException.Api.DRIVER, function.symbol(), status, errorName(status), text);
    }

    // ---------------------------------------------------------------- initialisation and devices

    /** Initialises the driver (cuInit). Cheap after the first successful call. */
    public static void init() {
        if (initialized) {
            return;
        }
        synchronized (CudaDriver.class) {
            if (initialized) {
                return;
            }
            int status;
            try {
                status = (int) H.cuInit.invokeExact(0);
            } catch (Throwable t) {
                throw NativeSupport.rethrow(t);
            }
            check(status, DriverFunctions.cuInit);
            initialized = true;
        }
    }

    /** The CUDA version the driver supports, 1000 * major + 10 * minor (12040 for 12.4). Needs no init. */
    public static int driverVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuDriverGetVersion.invokeExact(out), DriverFunctions.cuDriverGetVersion);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The number of CUDA devices. Initialises the driver if needed. */
    public static int deviceCount() {
        init();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuDeviceGetCount.invokeExact(out), DriverFunctions.cuDeviceGetCount);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The device handle for an ordinal. Initialises the driver if needed. */
    public static int deviceGet(int ordinal) {
        init();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuDeviceGet.invokeExact(out, ordinal), DriverFunctions.cuDeviceGet);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The device's marketing name, for example "NVIDIA H100 80GB HBM3". */
    public static String deviceName(int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(DEVICE_NAME_BYTES);
            check((int) H.cuDeviceGetName.invokeExact(out, DEVICE_NAME_BYTES, dev), DriverFunctions.cuDeviceGetName);
            return out.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The device's total memory in bytes. */
    public static long deviceTotalMem(int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuDeviceTotalMem.invokeExact(out, dev), DriverFunctions.cuDeviceTotalMem);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** A device attribute, for example {@link #DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT}. */
    public static int deviceAttribute(int attribute, int dev) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuDeviceGetAttribute.invokeExact(out, attribute, dev), DriverFunctions.cuDeviceGetAttribute);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- contexts

    /** Retains the device's primary context (creating it if needed) and returns it. Pair with {@link #primaryCtxRelease}. */
    public static long primaryCtxRetain(int dev) {
        init();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuDevicePrimaryCtxRetain.invokeExact(out, dev), DriverFunctions.cuDevicePrimaryCtxRetain);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Releases one retain of the device's primary context. */
    public static void primaryCtxRelease(int dev) {
        int status;
        try {
            status = (int) H.cuDevicePrimaryCtxRelease.invokeExact(dev);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuDevicePrimaryCtxRelease);
    }

    /** Makes a context current on the calling thread (0 unbinds). */
    public static void ctxSetCurrent(long ctx) {
        int status;
        try {
            status = (int) H.cuCtxSetCurrent.invokeExact(ctx);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuCtxSetCurrent);
    }

    /** The context current on the calling thread, 0 if none. */
    public static long ctxGetCurrent() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuCtxGetCurrent.invokeExact(out), DriverFunctions.cuCtxGetCurrent);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Waits for all work in the current context to finish. */
    public static void ctxSynchronize() {
        int status;
        try {
            status = (int) H.cuCtxSynchronize.invokeExact();
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuCtxSynchronize);
    }

    /**
     * Makes the primary context of the device with this ordinal current on the calling thread:
     * initialises the driver and retains the context the first time a device is asked for
     * (the retain is held for the life of the JVM), then sets it current only where the thread
     * has another or none. Returns the context.
     */
    public static long ensureContext(int ordinal) {
        Long ctx = PRIMARY_CONTEXTS.get(ordinal);
        if (ctx == null) {
            ctx = PRIMARY_CONTEXTS.computeIfAbsent(ordinal, o -> primaryCtxRetain(deviceGet(o)));
        }
        if (ctxGetCurrent() != ctx) {
            ctxSetCurrent(ctx);
        }
        return ctx;
    }

    // ---------------------------------------------------------------- streams

    /** Creates a stream with {@link #STREAM_DEFAULT} or {@link #STREAM_NON_BLOCKING}. */
    public static long streamCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuStreamCreate.invokeExact(out, flags), DriverFunctions.cuStreamCreate);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Creates a stream with a priority; lower numbers are higher priority, see {@link #streamPriorityRange()}. */
    public static long streamCreateWithPriority(int flags, int priority) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuStreamCreateWithPriority.invokeExact(out, flags, priority),
                    DriverFunctions.cuStreamCreateWithPriority);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Destroys a stream; work already queued on it still completes. */
    public static void streamDestroy(long stream) {
        int status;
        try {
            status = (int) H.cuStreamDestroy.invokeExact(stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuStreamDestroy);
    }

    /** Waits until all work queued on the stream has finished. */
    public static void streamSynchronize(long stream) {
        int status;
        try {
            status = (int) H.cuStreamSynchronize.invokeExact(stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuStreamSynchronize);
    }

    /** True if all work queued on the stream has finished, false if some is pending; throws on errors. */
    public static boolean streamQuery(long stream) {
        int status;
        try {
            status = (int) H.cuStreamQuery.invokeExact(stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        if (status == CUDA_ERROR_NOT_READY) {
            return false;
        }
        check(status, DriverFunctions.cuStreamQuery);
        return true;
    }

    /** Makes future work on the stream wait until the event's recorded work has completed. */
    public static void streamWaitEvent(long stream, long event) {
        int status;
        try {
            status = (int) H.cuStreamWaitEvent.invokeExact(stream, event, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuStreamWaitEvent);
    }

    /** The current context's stream priorities as {least, greatest}, for example {0, -5}. */
    public static int[] streamPriorityRange() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment least = arena.allocate(JAVA_INT);
            MemorySegment greatest = arena.allocate(JAVA_INT);
            check((int) H.cuCtxGetStreamPriorityRange.invokeExact(least, greatest),
                    DriverFunctions.cuCtxGetStreamPriorityRange);
            return new int[] {least.get(JAVA_INT, 0), greatest.get(JAVA_INT, 0)};
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- events

    /** Creates an event with {@link #EVENT_DEFAULT}, {@link #EVENT_DISABLE_TIMING}, ... */
    public static long eventCreate(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuEventCreate.invokeExact(out, flags), DriverFunctions.cuEventCreate);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Records the event at the current end of the stream's queue. */
    public static void eventRecord(long event, long stream) {
        int status;
        try {
            status = (int) H.cuEventRecord.invokeExact(event, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuEventRecord);
    }

    /** Waits until the work before the event's last record has completed. */
    public static void eventSynchronize(long event) {
        int status;
        try {
            status = (int) H.cuEventSynchronize.invokeExact(event);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuEventSynchronize);
    }

    /** True if the event's recorded work has completed (or it was never recorded), false if pending. */
    public static boolean eventQuery(long event) {
        int status;
        try {
            status = (int) H.cuEventQuery.invokeExact(event);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        if (status == CUDA_ERROR_NOT_READY) {
            return false;
        }
        check(status, DriverFunctions.cuEventQuery);
        return true;
    }

    /** Milliseconds between two completed events, both created with timing enabled. */
    public static float eventElapsedTime(long start, long end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            check((int) H.cuEventElapsedTime.invokeExact(out, start, end), DriverFunctions.cuEventElapsedTime);
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Destroys an event; a pending record still completes. */
    public static void eventDestroy(long event) {
        int status;
        try {
            status = (int) H.cuEventDestroy.invokeExact(event);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuEventDestroy);
    }

    // ---------------------------------------------------------------- memory

    /** Allocates device memory; {@link CudaException#isOutOfMemory()} tells an out-of-memory failure. */
    public static long memAlloc(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("memAlloc: byte count " + bytes + " is negative");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuMemAlloc.invokeExact(out, bytes), DriverFunctions.cuMemAlloc);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Frees device memory from {@link #memAlloc}. Synchronises the device. */
    public static void memFree(long dptr) {
        int status;
        try {
            status = (int) H.cuMemFree.invokeExact(dptr);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemFree);
    }

    /**
     * Allocates page-locked host memory, which async copies can use without staging. The
     * segment is sized to the request; free it with {@link #memFreeHost}, never with an arena.
     */
    @SuppressWarnings("restricted") // binding native code is what this module is for
    public static MemorySegment memAllocHost(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("memAllocHost: byte count " + bytes + " is negative");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) H.cuMemAllocHost.invokeExact(out, bytes), DriverFunctions.cuMemAllocHost);
            return out.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Frees page-locked host memory from {@link #memAllocHost}. */
    public static void memFreeHost(MemorySegment pointer) {
        int status;
        try {
            status = (int) H.cuMemFreeHost.invokeExact(pointer);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemFreeHost);
    }

    /** The current device's {free, total} memory in bytes. */
    public static long[] memGetInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG);
            MemorySegment total = arena.allocate(JAVA_LONG);
            check((int) H.cuMemGetInfo.invokeExact(free, total), DriverFunctions.cuMemGetInfo);
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Copies host to device; returns when the source may be reused. */
    public static void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        NativeSupport.checkHostRange("memcpyHtoD source", src, bytes);
        int status;
        try {
            status = (int) H.cuMemcpyHtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemcpyHtoD);
    }

    /** Copies device to host; returns when the data has arrived. */
    public static void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        NativeSupport.checkHostRange("memcpyDtoH destination", dst, bytes);
        int status;
        try {
            status = (int) H.cuMemcpyDtoH.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemcpyDtoH);
    }

    /** Copies device to device (asynchronous with respect to the host for most sizes). */
    public static void memcpyDtoD(long dst, long src, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("memcpyDtoD: byte count " + bytes + " is negative");
        }
        int status;
        try {
            status = (int) H.cuMemcpyDtoD.invokeExact(dst, src, bytes);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemcpyDtoD);
    }

    /**
     * Queues a host-to-device copy on the stream. The source must stay alive and unchanged until
     * the copy completes; only page-locked memory ({@link #memAllocHost}) copies truly asynchronously.
     */
    public static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        NativeSupport.checkHostRange("memcpyHtoDAsync source", src, bytes);
        int status;
        try {
            status = (int) H.cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemcpyHtoDAsync);
    }

    /** Queues a device-to-host copy on the stream; the destination must stay alive until it completes. */
    public static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        NativeSupport.checkHostRange("memcpyDtoHAsync destination", dst, bytes);
        int status;
        try {
            status = (int) H.cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemcpyDtoHAsync);
    }

    /** Queues a device-to-device copy on the stream. */
    public static void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        if (bytes < 0) {
            throw new IllegalArgumentException("memcpyDtoDAsync: byte count " + bytes + " is negative");
        }
        int status;
        try {
            status = (int) H.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemcpyDtoDAsync);
    }

    /** Sets count bytes to value. */
    public static void memsetD8(long dst, byte value, long count) {
        checkCount("memsetD8", count);
        int status;
        try {
            status = (int) H.cuMemsetD8.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemsetD8);
    }

    /** Sets count 32-bit words to value; dst must be 4-byte aligned. */
    public static void memsetD32(long dst, int value, long count) {
        checkCount("memsetD32", count);
        int status;
        try {
            status = (int) H.cuMemsetD32.invokeExact(dst, value, count);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemsetD32);
    }

    /** Queues setting count bytes to value on the stream. */
    public static void memsetD8Async(long dst, byte value, long count, long stream) {
        checkCount("memsetD8Async", count);
        int status;
        try {
            status = (int) H.cuMemsetD8Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemsetD8Async);
    }

    /** Queues setting count 32-bit words to value on the stream; dst must be 4-byte aligned. */
    public static void memsetD32Async(long dst, int value, long count, long stream) {
        checkCount("memsetD32Async", count);
        int status;
        try {
            status = (int) H.cuMemsetD32Async.invokeExact(dst, value, count, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuMemsetD32Async);
    }

    private static void checkCount(String call, long count) {
        if (count < 0) {
            throw new IllegalArgumentException(call + ": count " + count + " is negative");
        }
    }

    // ---------------------------------------------------------------- modules and kernels

    /**
     * Loads a module from a fatbin, cubin or PTX image in host memory (PTX must end with a NUL
     * byte). On failure the exception's text carries the JIT compiler's error log.
     */
    public static long moduleLoadData(MemorySegment image) {
        if (image == null || !image.isNative()) {
            throw new IllegalArgumentException("moduleLoadData: the image must be a native (off-heap) segment");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment module = arena.allocate(JAVA_LONG);
            MemorySegment errorLog = arena.allocate(JIT_LOG_BYTES);
            MemorySegment infoLog = arena.allocate(JIT_LOG_BYTES);
            MemorySegment options = arena.allocateFrom(JAVA_INT,
                    JIT_ERROR_LOG_BUFFER, JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                    JIT_INFO_LOG_BUFFER, JIT_INFO_LOG_BUFFER_SIZE_BYTES);
            // Option values are void*; the sizes travel as integers cast to pointers.
            MemorySegment values = arena.allocate(ADDRESS, 4);
            values.setAtIndex(ADDRESS, 0, errorLog);
            values.setAtIndex(JAVA_LONG, 1, JIT_LOG_BYTES);
            values.setAtIndex(ADDRESS, 2, infoLog);
            values.setAtIndex(JAVA_LONG, 3, JIT_LOG_BYTES);
            int status = (int) H.cuModuleLoadDataEx.invokeExact(module, image, 4, options, values);
            if (status != CUDA_SUCCESS) {
                String log = errorLog.getString(0, StandardCharsets.UTF_8);
                throw failure(status, DriverFunctions.cuModuleLoadDataEx,
                        log.isBlank() ? null : "JIT error log:\n" + log);
            }
            return module.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Loads a module from an image held in a byte array (a NUL is appended, so PTX text works as is). */
    public static long moduleLoadData(byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, copy, JAVA_BYTE, 0, image.length);
            return moduleLoadData(copy);
        }
    }

    /** The kernel with this (extern "C" or mangled) name in the module. */
    public static long moduleGetFunction(long module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            MemorySegment cName = arena.allocateFrom(name);
            int status = (int) H.cuModuleGetFunction.invokeExact(out, module, cName);
            if (status != CUDA_SUCCESS) {
                throw failure(status, DriverFunctions.cuModuleGetFunction, "function name: " + name);
            }
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Unloads a module; its functions become invalid. */
    public static void moduleUnload(long module) {
        int status;
        try {
            status = (int) H.cuModuleUnload.invokeExact(module);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuModuleUnload);
    }

    /** A function attribute, for example {@link #FUNC_ATTRIBUTE_NUM_REGS}. */
    public static int funcGetAttribute(int attribute, long function) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuFuncGetAttribute.invokeExact(out, attribute, function), DriverFunctions.cuFuncGetAttribute);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Sets a function attribute, for example {@link #FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    public static void funcSetAttribute(long function, int attribute, int value) {
        int status;
        try {
            status = (int) H.cuFuncSetAttribute.invokeExact(function, attribute, value);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuFuncSetAttribute);
    }

    /**
     * Queues a kernel launch on the stream.
     *
     * @param kernelParams an array of pointers, one per kernel parameter, each pointing at the
     *                     argument's value (see {@link KernelArgs}); {@link MemorySegment#NULL}
     *                     for a kernel without parameters. The values are copied by the launch.
     */
    public static void launchKernel(long function, int gridX, int gridY, int gridZ,
                                    int blockX, int blockY, int blockZ, int sharedMemBytes, long stream,
                                    MemorySegment kernelParams) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0 || blockX <= 0 || blockY <= 0 || blockZ <= 0) {
            throw new IllegalArgumentException("launchKernel: grid (" + gridX + ", " + gridY + ", " + gridZ
                    + ") and block (" + blockX + ", " + blockY + ", " + blockZ + ") must be positive");
        }
        if (sharedMemBytes < 0) {
            throw new IllegalArgumentException("launchKernel: shared memory " + sharedMemBytes + " is negative");
        }
        MemorySegment params = kernelParams == null ? MemorySegment.NULL : kernelParams;
        if (!params.equals(MemorySegment.NULL) && !params.isNative()) {
            throw new IllegalArgumentException("launchKernel: kernelParams must be a native segment");
        }
        int status;
        try {
            status = (int) H.cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedMemBytes, stream, params, MemorySegment.NULL);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuLaunchKernel);
    }

    /** How many blocks of this size can be resident on one multiprocessor at once. */
    public static int occupancyMaxActiveBlocksPerMultiprocessor(long function, int blockSize, long dynamicSmemBytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuOccupancyMaxActiveBlocksPerMultiprocessor.invokeExact(out, function, blockSize,
                    dynamicSmemBytes), DriverFunctions.cuOccupancyMaxActiveBlocksPerMultiprocessor);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- graphs

    /**
     * Starts capturing the work queued on a (non-default) stream into a graph instead of running
     * it. Mode: {@link #STREAM_CAPTURE_MODE_GLOBAL}, {@link #STREAM_CAPTURE_MODE_THREAD_LOCAL} or
     * {@link #STREAM_CAPTURE_MODE_RELAXED}.
     */
    public static void streamBeginCapture(long stream, int mode) {
        int status;
        try {
            status = (int) H.cuStreamBeginCapture.invokeExact(stream, mode);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuStreamBeginCapture);
    }

    /** Ends a capture and returns the captured graph; destroy it with {@link #graphDestroy}. */
    public static long streamEndCapture(long stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuStreamEndCapture.invokeExact(stream, out), DriverFunctions.cuStreamEndCapture);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Whether the stream is capturing: {@link #STREAM_CAPTURE_STATUS_NONE}, ACTIVE or INVALIDATED. */
    public static int streamIsCapturing(long stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check((int) H.cuStreamIsCapturing.invokeExact(stream, out), DriverFunctions.cuStreamIsCapturing);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Instantiates a graph for launching; destroy the result with {@link #graphExecDestroy}. */
    public static long graphInstantiate(long graph) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cuGraphInstantiate.invokeExact(out, graph, 0L), DriverFunctions.cuGraphInstantiate);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Queues a run of an instantiated graph on the stream. */
    public static void graphLaunch(long graphExec, long stream) {
        int status;
        try {
            status = (int) H.cuGraphLaunch.invokeExact(graphExec, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuGraphLaunch);
    }

    /** Destroys a graph (instantiated copies stay valid). */
    public static void graphDestroy(long graph) {
        int status;
        try {
            status = (int) H.cuGraphDestroy.invokeExact(graph);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuGraphDestroy);
    }

    /** Destroys an instantiated graph. */
    public static void graphExecDestroy(long graphExec) {
        int status;
        try {
            status = (int) H.cuGraphExecDestroy.invokeExact(graphExec);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, DriverFunctions.cuGraphExecDestroy);
    }
}

package dev.ember.ffi;

/**
 * A CUDA call that did not succeed: names the library, the call, the status code, the
 * status's symbolic name (for example {@code CUDA_ERROR_OUT_OF_MEMORY}) and its text.
 *
 * <p>Every binding in this package checks the status of every call it makes and throws
 * this exception for anything but success, so a caller never has to look at a raw code.
 */
public class CudaException extends RuntimeException {

    /** The library a failing call belongs to. */
    public enum Api {
        /** The CUDA driver API ({@code libcuda}). */
        DRIVER("CUDA driver"),
        /** cuBLAS. */
        CUBLAS("cuBLAS"),
        /** cuDNN. */
        CUDNN("cuDNN"),
        /** NVRTC, the runtime compiler. */
        NVRTC("NVRTC"),
        /** Finding and loading a native library, before any call could be made. */
        LOADER("library loader");

        private final String displayName;

        Api(String displayName) {
            this.displayName = displayName;
        }

        /** How the library is named in messages. */
        public String displayName() {
            return displayName;
        }
    }

    /** The driver's CUDA_ERROR_OUT_OF_MEMORY. */
    private static final int DRIVER_OUT_OF_MEMORY = 2;

    private final Api api;
    private final String call;
    private final int code;
    private final String errorName;
    private final String errorText;

    /**
     * @param api       the library the call belongs to
     * @param call      the C function that failed, as bound (for example {@code cuMemAlloc_v2})
     * @param code      the status it returned
     * @param errorName the status's symbolic name
     * @param errorText the library's description of the status, possibly with more detail
     *                  (a JIT or compile log) appended
     */
    public CudaException(Api api, String call, int code, String errorName, String errorText) {
        super(format(api, call, code, errorName, errorText));
        this.api = api;
        this.call = call;
        this.code = code;
        this.errorName = errorName;
        this.errorText = errorText;
    }

    private static String format(Api api, String call, int code, String errorName, String errorText) {
        StringBuilder sb = new StringBuilder();
        sb.append(call).append(" failed: ").append(errorName).append(" (").append(code).append(')');
        if (errorText != null && !errorText.isBlank()) {
            sb.append(": ").append(errorText);
        }
        sb.append(" [").append(api.displayName()).append(']');
        return sb.toString();
    }

    /** The library the failing call belongs to. */
    public Api api() {
        return api;
    }

    /** The C function that failed, as bound (for example {@code cuMemAlloc_v2}). */
    public String call() {
        return call;
    }

    /** The raw status code the call returned. */
    public int code() {
        return code;
    }

    /** The status's symbolic name, for example {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }

    /** The library's text for the status, with any extra detail (logs) it came with. */
    public String errorText() {
        return errorText;
    }

    /** True for the driver's out-of-memory status, which an allocator may want to recover from. */
    public boolean isOutOfMemory() {
        return api == Api.DRIVER && code == DRIVER_OUT_OF_MEMORY;
    }
}

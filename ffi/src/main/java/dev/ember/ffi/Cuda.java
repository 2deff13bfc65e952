package dev.ember.ffi;

/**
 * Whether CUDA can be used here, and why not when it cannot. Neither method ever throws,
 * so they are safe to call anywhere, for example in a test's assumption:
 *
 * <pre>{@code Assumptions.assumeTrue(Cuda.isAvailable(), Cuda.unavailableReason());}</pre>
 *
 * CUDA is available when the driver library loads, supports CUDA 12.0 or newer,
 * initialises, and reports at least one device. The answer is worked out once.
 */
public final class Cuda {

    /** The oldest driver Ember supports: CUDA 12.0, as cuDriverGetVersion reports it. */
    public static final int MIN_DRIVER_VERSION = 12000;

    private static volatile String reason;

    private Cuda() {
    }

    /** True when CUDA can be used. Never throws. */
    public static boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    /** Why CUDA cannot be used, or the empty string when it can. Never throws. */
    public static String unavailableReason() {
        String r = reason;
        if (r == null) {
            synchronized (Cuda.class) {
                r = reason;
                if (r == null) {
                    r = probe();
                    reason = r;
                }
            }
        }
        return r;
    }

    /** Formats a driver version such as 12040 as "12.4". */
    public static String formatVersion(int version) {
        return (version / 1000) + "." + (version % 1000) / 10;
    }

    private static String probe() {
        try {
            if (!NativeLibrary.CUDA_DRIVER.isAvailable()) {
                try {
                    NativeLibrary.CUDA_DRIVER.lookup();
                } catch (CudaException e) {
                    return "no CUDA driver: " + e.errorText();
                }
                return "no CUDA driver";
            }
            int version = CudaDriver.driverVersion();
            if (version < MIN_DRIVER_VERSION) {
                return "the CUDA driver is too old: it supports CUDA " + formatVersion(version)
                        + ", Ember needs " + formatVersion(MIN_DRIVER_VERSION) + " or newer (update the NVIDIA driver; "
                        + "loaded from " + NativeLibrary.CUDA_DRIVER.describe() + ")";
            }
            try {
                CudaDriver.init();
            } catch (CudaException e) {
                if (e.code() == CudaDriver.CUDA_ERROR_NO_DEVICE) {
                    return "no CUDA device: the driver (CUDA " + formatVersion(version) + ") found none ("
                            + e.getMessage() + ")";
                }
                return "the CUDA driver failed to initialise: " + e.getMessage();
            }
            int count = CudaDriver.deviceCount();
            if (count <= 0) {
                return "no CUDA device: the driver (CUDA " + formatVersion(version) + ") reports 0 devices";
            }
            return "";
        } catch (Throwable t) {
            String message = t.getMessage();
            return "CUDA could not be probed: " + t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        }
    }

    /**
     * A multi-line report of the driver, each device, and the cuBLAS, cuDNN and NVRTC
     * libraries (where each was loaded from and its version), for logs and the GPU suite's
     * header. Never throws; a part that cannot be queried says why.
     */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("CUDA driver: ").append(NativeLibrary.CUDA_DRIVER.describe());
        if (!isAvailable()) {
            sb.append("\nCUDA unavailable: ").append(unavailableReason());
        } else {
            line(sb, "driver version", () -> "CUDA " + formatVersion(CudaDriver.driverVersion()));
            int count;
            try {
                count = CudaDriver.deviceCount();
            } catch (RuntimeException e) {
                count = 0;
                sb.append("\ndevices: unavailable (").append(e.getMessage()).append(')');
            }
            for (int i = 0; i < count; i++) {
                int ordinal = i;
                line(sb, "device " + i, () -> {
                    int dev = CudaDriver.deviceGet(ordinal);
                    return CudaDriver.deviceName(dev)
                            + ", compute capability "
                            + CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) + "."
                            + CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev)
                            + ", " + CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev)
                            + " SMs, " + (CudaDriver.deviceTotalMem(dev) >> 20) + " MiB";
                });
            }
        }
        line(sb, "cuBLAS", () -> NativeLibrary.CUBLAS.describe()
                + (NativeLibrary.CUBLAS.isAvailable() ? ", version " + Cublas.version() : ""));
        line(sb, "cuDNN", () -> NativeLibrary.CUDNN.describe()
                + (NativeLibrary.CUDNN.isAvailable() ? ", version " + Cudnn.version() : ""));
        line(sb, "NVRTC", () -> {
            if (!NativeLibrary.NVRTC.isAvailable()) {
                return NativeLibrary.NVRTC.describe();
            }
            int[] v = Nvrtc.version();
            return NativeLibrary.NVRTC.describe() + ", version " + v[0] + "." + v[1];
        });
        return sb.toString();
    }

    private interface Query {
        String get();
    }

    private static void line(StringBuilder sb, String label, Query query) {
        String value;
        try {
            value = query.get();
        } catch (Throwable t) {
            value = "unavailable (" + t.getMessage() + ")";
        }
        sb.append('\n').append(label).append(": ").append(value);
    }
}

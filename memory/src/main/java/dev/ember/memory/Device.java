package dev.ember.memory;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.CudaDriver;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A place where memory lives and kernels run: the CPU, or one CUDA device by ordinal.
 * Like {@code torch.device}: {@code Device.cuda(1)} prints as {@code "cuda:1"} and
 * {@link #parse(String)} reads that form back. Instances are interned, so a device's
 * properties are queried from the driver at most once.
 */
public final class Device {
    private static final Device CPU = new Device(DeviceType.CPU, -1);
    private static final ConcurrentMap<Integer, Device> CUDA_DEVICES = new ConcurrentHashMap<>();

    private final DeviceType type;
    private final int index;
    private volatile DeviceProperties properties;

    private Device(DeviceType type, int index) {
        this.type = type;
        this.index = index;
    }

    /** The host CPU. */
    public static Device cpu() {
        return CPU;
    }

    /** CUDA device 0. */
    public static Device cuda() {
        return cuda(0);
    }

    /** The CUDA device with this ordinal; whether it exists is checked when it is first used. */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("CUDA device index must be non-negative, got " + index);
        }
        return CUDA_DEVICES.computeIfAbsent(index, i -> new Device(DeviceType.CUDA, i));
    }

    /** Reads {@code "cpu"}, {@code "cuda"} (device 0) or {@code "cuda:N"}. */
    public static Device parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        String s = spec.trim();
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.equals("cuda")) {
            return cuda(0);
        }
        if (s.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(s.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("Expected one of cpu, cuda, cuda:N for a device, got '" + spec + "'");
    }

    /** How many CUDA devices the driver sees; 0 when CUDA is unavailable. */
    public static int cudaDeviceCount() {
        if (!Cuda.isAvailable()) {
            return 0;
        }
        return CudaDriver.deviceCount();
    }

    public DeviceType type() {
        return type;
    }

    /** The CUDA ordinal, or -1 for the CPU. */
    public int index() {
        return index;
    }

    public boolean isCuda() {
        return type == DeviceType.CUDA;
    }

    public boolean isCpu() {
        return type == DeviceType.CPU;
    }

    /** The device's properties, read from the driver on first call and cached. */
    public DeviceProperties properties() {
        DeviceProperties p = properties;
        if (p == null) {
            synchronized (this) {
                p = properties;
                if (p == null) {
                    p = queryProperties();
                    properties = p;
                }
            }
        }
        return p;
    }

    public String name() {
        return properties().name();
    }

    public long totalMemory() {
        return properties().totalMemory();
    }

    public ComputeCapability computeCapability() {
        return properties().computeCapability();
    }

    public int multiprocessorCount() {
        return properties().multiprocessorCount();
    }

    /**
     * Makes this device's primary context current on the calling thread, which every driver
     * call that touches device state needs. Throws with the driver's reason when CUDA is absent.
     */
    void makeCurrent() {
        requireCuda();
        CudaDriver.ensureContext(index);
    }

    private DeviceProperties queryProperties() {
        requireCuda();
        int count = CudaDriver.deviceCount();
        if (index >= count) {
            throw new IllegalStateException("No " + this + ": the driver reports " + count + " CUDA device(s)");
        }
        int handle = CudaDriver.deviceGet(index);
        return new DeviceProperties(
                CudaDriver.deviceName(handle),
                CudaDriver.deviceTotalMem(handle),
                new ComputeCapability(CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle),
                        CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle)),
                CudaDriver.deviceAttribute(CudaDriver.DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, handle));
    }

    private void requireCuda() {
        if (type != DeviceType.CUDA) {
            throw new IllegalStateException(this + " is not a CUDA device");
        }
        if (!Cuda.isAvailable()) {
            throw new IllegalStateException("CUDA is not available: " + Cuda.unavailableReason());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.type == type && d.index == index;
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + index;
    }

    @Override
    public String toString() {
        return type == DeviceType.CPU ? "cpu" : "cuda:" + index;
    }
}

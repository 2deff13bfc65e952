package dev.ember.bench.gpu;

import dev.ember.ffi.CudaDriver;
import dev.ember.memory.CudaMemory;
import dev.ember.memory.Device;
import dev.ember.memory.PinnedBlock;
import dev.ember.memory.PinnedHostAllocator;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Copy bandwidth on the GPU in GB/s (10^9 bytes per second), as {@code name:gigabytes} in
 * JMH's table (JMH labels it ops/s: gigabytes per second):
 * <ul>
 *   <li>{@code hostToDevice} and {@code deviceToHost}: {@code cuMemcpy*Async} between device
 *   memory and host memory that is either {@code pinned} (page-locked, from Ember's
 *   {@link PinnedHostAllocator}) or {@code pageable} (a plain off-heap {@link MemorySegment},
 *   which the driver stages through its own pinned buffer), at 1 MiB and 256 MiB;</li>
 *   <li>{@code deviceToDevice}: {@code cuMemcpyDtoDAsync} of 256 MiB, counting the bytes read
 *   and the bytes written (2 × 256 MiB per copy): the device-memory roof that GPU kernels'
 *   bandwidth is compared with.</li>
 * </ul>
 * One operation queues copies of at least {@value #HOST_BATCH_MIB} MiB (host) or
 * {@value #DEVICE_BATCH_MIB} MiB (device) back to back on a stream and waits for the stream,
 * so the wall time JMH measures is the copies' own time plus one synchronisation. The same
 * measurement with PyTorch is {@code bench/peers/allocator_peer.py}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class CopyBandwidthGpuBench {
    private static final long MIB = 1024 * 1024;
    /** Host copies queued per operation, in MiB at least. */
    static final long HOST_BATCH_MIB = 64;
    /** Device-to-device copies queued per operation, in MiB at least. */
    static final long DEVICE_BATCH_MIB = 1024;

    /** Device memory, host memory of the chosen kind, and a stream to copy on. */
    @State(Scope.Thread)
    public static class HostCopy {
        /** {@code pinned}: page-locked memory from the pinned host allocator; {@code pageable}: plain off-heap memory. */
        @Param({"pinned", "pageable"})
        public String memory;

        @Param({"1048576", "268435456"})
        public long bytes;

        MemorySegment host;
        long device;
        long stream;
        int copies;
        private PinnedBlock pinned;
        private Arena arena;

        @Setup(Level.Trial)
        public void setUp() {
            GpuBenchSupport.requireCuda("CopyBandwidthGpuBench");
            host = switch (memory) {
                case "pinned" -> {
                    pinned = CudaMemory.pinnedHost(Device.cuda(0)).allocate(bytes);
                    yield pinned.segment();
                }
                case "pageable" -> {
                    arena = Arena.ofShared();
                    yield arena.allocate(bytes, 4096);
                }
                default -> throw new IllegalArgumentException("memory is pinned or pageable, not " + memory);
            };
            // Touch every page, so no copy pays for first-touch faults.
            host.fill((byte) 0x5A);
            device = CudaDriver.memAlloc(bytes);
            stream = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
            CudaDriver.memsetD8Async(device, (byte) 0, bytes, stream);
            CudaDriver.streamSynchronize(stream);
            copies = (int) Math.max(1, HOST_BATCH_MIB * MIB / bytes);
        }

        /** The context is per thread; JMH runs every iteration on its worker thread, but make sure. */
        @Setup(Level.Iteration)
        public void context() {
            CudaDriver.ensureContext(0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            CudaDriver.ensureContext(0);
            if (stream != 0) {
                CudaDriver.streamSynchronize(stream);
                CudaDriver.streamDestroy(stream);
                stream = 0;
            }
            if (device != 0) {
                CudaDriver.memFree(device);
                device = 0;
            }
            if (pinned != null) {
                PinnedHostAllocator allocator = CudaMemory.pinnedHost(Device.cuda(0));
                allocator.free(pinned);
                allocator.emptyCache();
                pinned = null;
            }
            if (arena != null) {
                arena.close();
                arena = null;
            }
        }
    }

    /** Two device buffers and a stream. */
    @State(Scope.Thread)
    public static class DeviceCopy {
        @Param({"268435456"})
        public long bytes;

        long src;
        long dst;
        long stream;
        int copies;

        @Setup(Level.Trial)
        public void setUp() {
            GpuBenchSupport.requireCuda("CopyBandwidthGpuBench");
            src = CudaDriver.memAlloc(bytes);
            dst = CudaDriver.memAlloc(bytes);
            stream = CudaDriver.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
            CudaDriver.memsetD8Async(src, (byte) 0x5A, bytes, stream);
            CudaDriver.memsetD8Async(dst, (byte) 0, bytes, stream);
            CudaDriver.streamSynchronize(stream);
            copies = (int) Math.max(1, DEVICE_BATCH_MIB * MIB / bytes);
        }

        @Setup(Level.Iteration)
        public void context() {
            CudaDriver.ensureContext(0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            CudaDriver.ensureContext(0);
            if (stream != 0) {
                CudaDriver.streamSynchronize(stream);
                CudaDriver.streamDestroy(stream);
                stream = 0;
            }
            if (src != 0) {
                CudaDriver.memFree(src);
                src = 0;
            }
            if (dst != 0) {
                CudaDriver.memFree(dst);
                dst = 0;
            }
        }
    }

    /** Gigabytes moved; JMH divides by the iteration's time, so the table shows GB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Moved {
        public double gigabytes;
    }

    @Benchmark
    public void hostToDevice(HostCopy s, Moved moved) {
        for (int i = 0; i < s.copies; i++) {
            CudaDriver.memcpyHtoDAsync(s.device, s.host, s.bytes, s.stream);
        }
        CudaDriver.streamSynchronize(s.stream);
        moved.gigabytes += (double) s.copies * s.bytes / GpuBenchSupport.GB;
    }

    @Benchmark
    public void deviceToHost(HostCopy s, Moved moved) {
        for (int i = 0; i < s.copies; i++) {
            CudaDriver.memcpyDtoHAsync(s.host, s.device, s.bytes, s.stream);
        }
        CudaDriver.streamSynchronize(s.stream);
        moved.gigabytes += (double) s.copies * s.bytes / GpuBenchSupport.GB;
    }

    /** Counts read and write traffic: 2 × bytes per copy. */
    @Benchmark
    public void deviceToDevice(DeviceCopy s, Moved moved) {
        for (int i = 0; i < s.copies; i++) {
            CudaDriver.memcpyDtoDAsync(s.dst, s.src, s.bytes, s.stream);
        }
        CudaDriver.streamSynchronize(s.stream);
        moved.gigabytes += 2.0 * s.copies * s.bytes / GpuBenchSupport.GB;
    }
}

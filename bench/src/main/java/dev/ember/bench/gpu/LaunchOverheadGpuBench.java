package dev.ember.bench.gpu;

import dev.ember.ffi.CudaDriver;
import dev.ember.ffi.KernelArgs;
import dev.ember.ffi.LaunchScratch;
import dev.ember.memory.Stream;
import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import dev.ember.tensor.cuda.CudaKernels;
import dev.ember.tensor.cuda.CudaLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The parts of {@link TinyOpGpuBench}'s time per op, in µs per call, so that a change to the
 * launch path can be aimed at the part that costs:
 * <ul>
 *   <li>{@code rawLaunch}: {@code cuLaunchKernel} of the same add kernel with arguments built
 *       once, {@value #OPS} launches then one wait: the floor any op pays, the driver's host
 *       cost or the GPU's time per tiny kernel, whichever is larger;</li>
 *   <li>{@code launchArguments}: building the arguments as every elementwise op does (the
 *       operands' layout struct and the argument array, in the thread's {@link LaunchScratch}),
 *       no launch; {@code launchArgumentsInArena} the same in a confined arena per launch;</li>
 *   <li>{@code ensureContext}: making the device's context current, which every op checks;</li>
 *   <li>{@code emptyClose}: a 1-element result from the caching allocator and back.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class LaunchOverheadGpuBench {
    static final int OPS = 1000;
    private static final long[] ONE = {1};

    private Arena arena;
    private long out, x, y, function, stream;
    private int grid;
    private MemorySegment params;

    @Setup(Level.Trial)
    public void setUp() {
        GpuBenchSupport.requireCuda("LaunchOverheadGpuBench");
        CudaKernels kernels = CudaKernels.of(GpuBenchSupport.DEVICE);
        function = kernels.function("ember_binary_add_f32");
        grid = kernels.gridFor(1);
        stream = Stream.current(GpuBenchSupport.DEVICE).handle();
        out = CudaDriver.memAlloc(4);
        x = CudaDriver.memAlloc(4);
        y = CudaDriver.memAlloc(4);
        CudaDriver.memsetD8(x, (byte) 0x3f, 4); // about 0.75, not zeros
        CudaDriver.memsetD8(y, (byte) 0x3f, 4);
        arena = Arena.ofShared();
        params = arguments(arena);
        GpuBenchSupport.synchronize();
    }

    /** The add kernel's arguments for 1-element operands, as CudaOps builds them for an op. */
    private MemorySegment arguments(SegmentAllocator a) {
        CudaLayout layout = CudaLayout.of(ONE, ONE, ONE, ONE);
        return new KernelArgs(a).addPointer(out).addPointer(x).addPointer(y).addStruct(layout.toStruct(a), 8)
                .addDouble(1).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        GpuBenchSupport.synchronize();
        CudaDriver.memFree(out);
        CudaDriver.memFree(x);
        CudaDriver.memFree(y);
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void rawLaunch() {
        for (int i = 0; i < OPS; i++) {
            CudaDriver.launchKernel(function, grid, 1, 1, CudaKernels.BLOCK, 1, 1, 0, stream, params);
        }
        GpuBenchSupport.synchronize();
    }

    @Benchmark
    public long launchArguments() {
        try (LaunchScratch a = LaunchScratch.open()) {
            return arguments(a).address();
        }
    }

    /** The same in a confined arena per launch, as before {@link LaunchScratch}: the difference is what it saves. */
    @Benchmark
    public long launchArgumentsInArena() {
        try (Arena a = Arena.ofConfined()) {
            return arguments(a).address();
        }
    }

    @Benchmark
    public long ensureContext() {
        return CudaDriver.ensureContext(0);
    }

    @Benchmark
    public void emptyClose() {
        Tensor.empty(GpuBenchSupport.DEVICE, DType.FLOAT32, 1).close();
    }
}

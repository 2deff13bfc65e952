package dev.ember.bench.memory;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.CudaDriver;
import dev.ember.memory.Block;
import dev.ember.memory.CachingAllocator;
import dev.ember.memory.CudaMemory;
import dev.ember.memory.Device;
import dev.ember.memory.SimulatedDevice;
import dev.ember.memory.Stream;
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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The caching allocator's cost per allocate+free pair once its cache is warm, on the
 * simulated device and on a GPU, against the driver's own cuMemAlloc+cuMemFree; and a
 * repeated allocation pattern whose device malloc count must stop growing after its first
 * round. Without a GPU run only the simulated backend:
 * {@code -p backend=simulated -e cudaMallocFree}.
 *
 * <p>On a GPU, the PyTorch figures to compare with come from {@code bench/peers/allocator_peer.py}
 * ({@code torch.empty} then {@code del}, same sizes), and {@code ci/gpu-run} puts both in
 * its summary. {@code repeatedPattern} prints, at the end of its run, one line starting
 * {@code [repeatedPattern/BACKEND]} with the device mallocs of every iteration (warm-up
 * included) and whether they stayed at 0 after the first; gpu-run copies that line into the
 * summary.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AllocatorBench {
    private static final long MIB = 1024 * 1024;

    /** An allocator with its cache warmed for one size, on the chosen backend. */
    @State(Scope.Thread)
    public static class PairState {
        @Param({"simulated", "cuda"})
        public String backend;

        /** 4 KiB comes from the small pool, 4 MiB from the large one. */
        @Param({"4096", "4194304"})
        public long bytes;

        CachingAllocator allocator;
        long stream;

        @Setup(Level.Trial)
        public void setUp() {
            Backend b = Backend.open(backend);
            allocator = b.allocator;
            stream = b.stream;
            allocator.free(allocator.allocate(bytes, stream));
        }

        @Setup(Level.Iteration)
        public void context() {
            Backend.makeCurrent(backend);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            allocator.emptyCache();
        }
    }

    /** The driver with the device's context current on the benchmark thread. */
    @State(Scope.Thread)
    public static class DriverState {
        @Param({"4096", "4194304"})
        public long bytes;

        @Setup(Level.Trial)
        public void setUp() {
            Backend.requireCuda();
            CudaDriver.ensureContext(0);
            // The first cuMemAlloc of a size can map new pages; pay for it here, not in the first iteration.
            CudaDriver.memFree(CudaDriver.memAlloc(bytes));
        }

        /**
         * cuMemAlloc and cuMemFree act on the calling thread's current context; JMH runs an
         * iteration on one worker thread, so setting it here keeps the call out of the timing.
         */
        @Setup(Level.Iteration)
        public void context() {
            CudaDriver.ensureContext(0);
        }
    }

    /** A training step's worth of allocations, replayed every invocation. */
    @State(Scope.Thread)
    public static class PatternState {
        @Param({"simulated", "cuda"})
        public String backend;

        CachingAllocator allocator;
        long stream;
        final Block[] live = new Block[STEP_SIZES.length];
        long mallocsBeforeIteration;
        /** Device mallocs of each iteration so far, warm-up included. */
        final List<Long> mallocsPerIteration = new ArrayList<>();

        @Setup(Level.Trial)
        public void setUp() {
            Backend b = Backend.open(backend);
            allocator = b.allocator;
            stream = b.stream;
        }

        @Setup(Level.Iteration)
        public void markIteration() {
            Backend.makeCurrent(backend);
            mallocsBeforeIteration = allocator.stats().deviceMallocs();
        }

        @TearDown(Level.Iteration)
        public void reportIteration() {
            long total = allocator.stats().deviceMallocs();
            long mallocs = total - mallocsBeforeIteration;
            mallocsPerIteration.add(mallocs);
            System.out.printf("%n[%s] iteration %d: %d device mallocs (total %d)%n", backend,
                    mallocsPerIteration.size(), mallocs, total);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            System.out.println();
            System.out.println(flatnessReport(backend, mallocsPerIteration));
            allocator.emptyCache();
        }
    }

    /**
     * One line for logs and ci/gpu-run's summary, for example
     * {@code [repeatedPattern/cuda] device mallocs per iteration: 7 0 0 0 0 0 0 0 -> flat after the first iteration}.
     */
    static String flatnessReport(String backend, List<Long> mallocsPerIteration) {
        StringBuilder sb = new StringBuilder("[repeatedPattern/").append(backend).append("] device mallocs per iteration:");
        long afterFirst = 0;
        for (int i = 0; i < mallocsPerIteration.size(); i++) {
            sb.append(' ').append(mallocsPerIteration.get(i));
            if (i > 0) {
                afterFirst += mallocsPerIteration.get(i);
            }
        }
        if (mallocsPerIteration.size() < 2) {
            sb.append(" -> too few iterations to tell (run at least 2)");
        } else if (afterFirst == 0) {
            sb.append(" -> flat after the first iteration");
        } else {
            sb.append(" -> NOT flat: ").append(afterFirst).append(" device mallocs after the first iteration");
        }
        return sb.toString();
    }

    /** Device mallocs per iteration, reported by JMH next to the time; flat at 0 after the first. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class MallocCounter {
        public long deviceMallocs;
    }

    /** Activations, weights' gradients and temporaries of mixed sizes across both pools. */
    static final long[] STEP_SIZES = {
            64 * 1024, 64 * 1024, 3 * 1024, 300 * 1024, MIB, 4 * MIB, 12 * MIB, 64 * 1024, 25 * MIB, 700 * 1024,
            2 * MIB + 1, 9 * MIB,
    };

    @Benchmark
    public long allocFree(PairState s) {
        Block b = s.allocator.allocate(s.bytes, s.stream);
        s.allocator.free(b);
        return b.address();
    }

    @Benchmark
    public long cudaMallocFree(DriverState s) {
        long p = CudaDriver.memAlloc(s.bytes);
        CudaDriver.memFree(p);
        return p;
    }

    @Benchmark
    public long repeatedPattern(PatternState s, MallocCounter counter) {
        long before = s.allocator.stats().deviceMallocs();
        Block[] live = s.live;
        long sum = 0;
        // forward: allocate everything, freeing temporaries (every third) as it goes
        for (int i = 0; i < live.length; i++) {
            live[i] = s.allocator.allocate(STEP_SIZES[i], s.stream);
            sum += live[i].address();
            if (i % 3 == 2) {
                s.allocator.free(live[i]);
                live[i] = null;
            }
        }
        // backward: free in reverse, as gradients release activations
        for (int i = live.length - 1; i >= 0; i--) {
            if (live[i] != null) {
                s.allocator.free(live[i]);
                live[i] = null;
            }
        }
        counter.deviceMallocs += s.allocator.stats().deviceMallocs() - before;
        return sum;
    }

    /** The allocator and stream a state runs on. */
    private record Backend(CachingAllocator allocator, long stream) {
        static Backend open(String name) {
            return switch (name) {
                case "simulated" -> new Backend(new CachingAllocator(new SimulatedDevice(16L * 1024 * MIB), "sim"), 0);
                case "cuda" -> {
                    requireCuda();
                    CudaDriver.ensureContext(0);
                    Device device = Device.cuda(0);
                    yield new Backend(CudaMemory.allocator(device), Stream.defaultStream(device).handle());
                }
                default -> throw new IllegalArgumentException("backend is simulated or cuda, not " + name);
            };
        }

        /** Device memory calls need the device's context current on the calling thread. */
        static void makeCurrent(String name) {
            if (name.equals("cuda")) {
                CudaDriver.ensureContext(0);
            }
        }

        static void requireCuda() {
            if (!Cuda.isAvailable()) {
                throw new IllegalStateException("CUDA is not available (" + Cuda.unavailableReason()
                        + "); run with -p backend=simulated -e cudaMallocFree");
            }
        }
    }
}

package dev.ember.bench.cpu;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The memory-bandwidth roof the bandwidth benchmarks are compared with: a bulk
 * {@link MemorySegment#copy} of a 64 MiB buffer (64 MiB read + 64 MiB written per op). With
 * one thread it is a single copy call; with more, the buffer is split into one contiguous
 * slice per thread, the way Ember splits an elementwise op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class CopyRoofBench {
    /** The buffer holds this many floats: the size of one tensor in {@link BandwidthBench}. */
    @Param({"16777216"})
    public long floats;

    @Param({"1", Threads.ALL})
    public String threads;

    private Arena arena;
    private MemorySegment src, dst;
    private int slices;
    /** Copies every slice but the first, which the benchmark thread copies itself. */
    private ExecutorService helpers;
    private Future<?>[] pending;

    @Setup(Level.Trial)
    public void setup() {
        slices = Threads.resolve(threads);
        long bytes = floats * Float.BYTES;
        arena = Arena.ofShared();
        src = arena.allocate(bytes, 64);
        dst = arena.allocate(bytes, 64);
        // touch every page now, so no op pays for first-touch page faults
        src.fill((byte) 1);
        dst.fill((byte) 0);
        if (slices > 1) {
            helpers = Executors.newFixedThreadPool(slices - 1, r -> {
                Thread t = new Thread(r, "copy-roof");
                t.setDaemon(true);
                return t;
            });
            pending = new Future<?>[slices - 1];
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (helpers != null) helpers.shutdownNow();
        arena.close();
    }

    @Benchmark
    public void copy() throws Exception {
        if (slices == 1) {
            MemorySegment.copy(src, 0, dst, 0, src.byteSize());
            return;
        }
        for (int s = 1; s < slices; s++) {
            int slice = s;
            pending[s - 1] = helpers.submit(() -> copySlice(slice));
        }
        copySlice(0);
        for (Future<?> f : pending) f.get();
    }

    private void copySlice(int s) {
        long bytes = src.byteSize();
        // slice boundaries on cache lines, so no line is written by two threads
        long from = (bytes * s / slices) & -64L;
        long to = s == slices - 1 ? bytes : (bytes * (s + 1) / slices) & -64L;
        MemorySegment.copy(src, from, dst, from, to - from);
    }
}

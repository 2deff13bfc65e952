package dev.ember.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.ffi.CudaDriver;
import dev.ember.ffi.KernelArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Loads the fatbins on a real GPU and checks the fill and strided-copy kernels against a
 * plain CPU reference on random data. Every comparison is bit for bit: both kernels move
 * bits, so any difference is a bug. Skipped where there is no CUDA driver or device.
 */
@Tag("gpu")
class KernelLaunchGpuTest {

    private static final int BLOCK = 256;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static long fillModule;
    private static long copyModule;

    /** Fresh data on every run; failures print the seed so a run can be replayed. */
    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    @BeforeAll
    static void loadKernels() {
        // Without CUDA each test skips itself in currentContext(), so reports count the
        // skipped tests one by one instead of one aborted class.
        if (!Cuda.isAvailable()) return;
        // On a machine with a GPU, a package without kernels is a broken build, not a skip.
        assertTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        CudaDriver.ensureContext(0);
        try (Arena arena = Arena.ofConfined()) {
            fillModule = CudaDriver.moduleLoadData(KernelImages.imageSegment("fill", arena));
            copyModule = CudaDriver.moduleLoadData(KernelImages.imageSegment("strided_copy", arena));
        }
    }

    @AfterAll
    static void unloadKernels() {
        if (fillModule != 0) CudaDriver.moduleUnload(fillModule);
        if (copyModule != 0) CudaDriver.moduleUnload(copyModule);
    }

    @BeforeEach
    void currentContext() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        // The context is per thread; JUnit may run methods on another thread than @BeforeAll.
        CudaDriver.ensureContext(0);
    }

    @Test
    void everyListedKernelOfEveryImageLoadsOnTheDevice() {
        for (String image : KernelImages.imageNames()) {
            long module;
            try (Arena arena = Arena.ofConfined()) {
                module = CudaDriver.moduleLoadData(KernelImages.imageSegment(image, arena));
            }
            try {
                for (String kernel : KernelImages.kernelNames(image)) {
                    assertTrue(CudaDriver.moduleGetFunction(module, kernel) != 0, image + ": " + kernel);
                }
            } finally {
                CudaDriver.moduleUnload(module);
            }
        }
    }

    // ------------------------------------------------------------------ fill

    /** One fill entry point: its element width and how its value parameter is passed. */
    private record FillKernel(String name, int width) {
    }

    private static final List<FillKernel> FILLS = List.of(
            new FillKernel("ember_fill_f32", 4), new FillKernel("ember_fill_f64", 8),
            new FillKernel("ember_fill_i32", 4), new FillKernel("ember_fill_i64", 8),
            new FillKernel("ember_fill_u8", 1), new FillKernel("ember_fill_f16", 2),
            new FillKernel("ember_fill_bf16", 2));

    @Test
    void fillWritesExactlyTheRequestedElementsForEveryDtype() {
        long[] counts = {0, 1, 3, 17, 1000, 4099, (1 << 20) + 5};
        for (FillKernel k : FILLS) {
            long function = CudaDriver.moduleGetFunction(fillModule, k.name());
            for (long n : counts) {
                // Starting 0..3 elements past a 256-byte boundary runs the unaligned head,
                // the 16-byte body and the tail; a 1-block grid makes every loop stride.
                int offset = random.nextInt(4);
                boolean tinyGrid = random.nextBoolean();
                checkFill(k, function, n, offset, tinyGrid);
            }
        }
    }

    @Test
    void fillKeepsSpecialFloatBitPatterns() {
        long f32 = CudaDriver.moduleGetFunction(fillModule, "ember_fill_f32");
        long f64 = CudaDriver.moduleGetFunction(fillModule, "ember_fill_f64");
        for (float v : new float[] {-0.0f, Float.intBitsToFloat(0x7FC1_2345), Float.NEGATIVE_INFINITY, Float.MIN_VALUE}) {
            byte[] bits = new byte[4];
            MemorySegment.ofArray(bits).set(ValueLayout.JAVA_INT_UNALIGNED, 0, Float.floatToRawIntBits(v));
            checkFillWith(new FillKernel("ember_fill_f32", 4), f32, 1001, 1, false, bits);
        }
        byte[] nan = new byte[8];
        MemorySegment.ofArray(nan).set(I64, 0, 0x7FF8_0000_DEAD_BEEFL);
        checkFillWith(new FillKernel("ember_fill_f64", 8), f64, 999, 3, false, nan);
    }

    private void checkFill(FillKernel k, long function, long n, int offset, boolean tinyGrid) {
        byte[] value = new byte[k.width()];
        random.nextBytes(value);
        // u8 also stands for bool: half the time 0 or 1, otherwise any byte (above 127 too).
        if (k.name().equals("ember_fill_u8") && random.nextBoolean()) value[0] = (byte) random.nextInt(2);
        checkFillWith(k, function, n, offset, tinyGrid, value);
    }

    /**
     * Fills n elements starting offset elements into a buffer of random bytes and checks
     * that those elements hold the value and every byte around them is untouched.
     */
    private void checkFillWith(FillKernel k, long function, long n, int offset, boolean tinyGrid, byte[] value) {
        int w = k.width();
        long guard = 64;
        long bytes = (offset + n + guard) * w;
        byte[] before = randomBytes(bytes);
        long device = CudaDriver.memAlloc(bytes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(bytes, 16);
            MemorySegment.copy(before, 0, host, ValueLayout.JAVA_BYTE, 0, before.length);
            CudaDriver.memcpyHtoD(device, host, bytes);

            KernelArgs args = new KernelArgs(arena).addPointer(device + (long) offset * w);
            MemorySegment v = MemorySegment.ofArray(value);
            switch (k.name()) {
                case "ember_fill_f32" -> args.addFloat(v.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
                case "ember_fill_f64" -> args.addDouble(v.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, 0));
                case "ember_fill_i32" -> args.addInt(v.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
                case "ember_fill_i64" -> args.addLong(v.get(I64, 0));
                case "ember_fill_u8" -> args.addByte(value[0]);
                // f16 and bf16 take their value as uint16_t bits.
                case "ember_fill_f16", "ember_fill_bf16" -> args.addShort(v.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
                default -> throw new AssertionError("no argument packing for " + k.name());
            }
            args.addLong(n);
            long chunks = Math.max(1, (n * w + 15) / 16);
            int grid = tinyGrid ? 1 : (int) Math.min((chunks + BLOCK - 1) / BLOCK, 4096);
            CudaDriver.launchKernel(function, grid, 1, 1, BLOCK, 1, 1, 0, 0, args.build());
            CudaDriver.streamSynchronize(0);
            CudaDriver.memcpyDtoH(host, device, bytes);

            byte[] after = host.toArray(ValueLayout.JAVA_BYTE);
            for (long e = 0; e < offset + n + guard; e++) {
                boolean filled = e >= offset && e < offset + n;
                for (int b = 0; b < w; b++) {
                    int i = Math.toIntExact(e * w + b);
                    byte expected = filled ? value[b] : before[i];
                    if (after[i] != expected) {
                        fail(k.name() + " n=" + n + " offset=" + offset + (tinyGrid ? " (1 block)" : "")
                                + ": byte " + b + " of element " + e + " is " + after[i] + ", expected " + expected
                                + (filled ? " (fill value)" : " (outside the filled range: must be untouched)")
                                + ", seed " + seed);
                    }
                }
            }
        } finally {
            CudaDriver.memFree(device);
        }
    }

    // ------------------------------------------------------------------ strided copy

    /**
     * A strided view: sizes, strides and a storage offset, all in elements. The copy reads
     * src view element by element in row-major order and writes the dst view the same way.
     */
    private record View(long[] sizes, long[] strides, long offset) {
        long numel() {
            long n = 1;
            for (long s : sizes) n *= s;
            return n;
        }

        /** Smallest and largest storage index the view touches (offset when empty). */
        long[] extent() {
            long lo = offset;
            long hi = offset;
            if (numel() == 0) return new long[] {lo, hi};
            for (int d = 0; d < sizes.length; d++) {
                long span = (sizes[d] - 1) * strides[d];
                if (span < 0) lo += span; else hi += span;
            }
            return new long[] {lo, hi};
        }

        @Override
        public String toString() {
            return "sizes " + Arrays.toString(sizes) + " strides " + Arrays.toString(strides) + " offset " + offset;
        }
    }

    private static long[] contiguousStrides(long[] sizes) {
        long[] strides = new long[sizes.length];
        long s = 1;
        for (int d = sizes.length - 1; d >= 0; d--) {
            strides[d] = s;
            s *= sizes[d];
        }
        return strides;
    }

    @Test
    void copiesATransposed3dViewIntoContiguousMemory() {
        long a = 37, b = 19, c = 53;
        // src is contiguous (a, b, c); the view is its permute(2, 0, 1): sizes (c, a, b).
        View src = new View(new long[] {c, a, b}, new long[] {1, b * c, c}, 0);
        View dst = new View(new long[] {c, a, b}, contiguousStrides(new long[] {c, a, b}), 0);
        for (int width : new int[] {1, 2, 4, 8}) {
            checkCopy(width, dst, src, false);
        }
    }

    @Test
    void copiesContiguousDataIntoATransposedDestination() {
        long a = 64, b = 3, c = 129;
        View src = new View(new long[] {a, b, c}, contiguousStrides(new long[] {a, b, c}), 5);
        // dst is a (c, b, a) contiguous buffer written through its transpose(0, 2).
        View dst = new View(new long[] {a, b, c}, new long[] {1, a, a * b}, 0);
        for (int width : new int[] {1, 2, 4, 8}) {
            checkCopy(width, dst, src, false);
        }
    }

    @Test
    void broadcastsAStrideZeroSource() {
        // A (1, 300) row expanded to (250, 300), and a scalar expanded to (7, 11, 13).
        View row = new View(new long[] {250, 300}, new long[] {0, 1}, 3);
        View rowDst = new View(new long[] {250, 300}, contiguousStrides(new long[] {250, 300}), 0);
        View scalar = new View(new long[] {7, 11, 13}, new long[] {0, 0, 0}, 0);
        View scalarDst = new View(new long[] {7, 11, 13}, new long[] {1, 7, 77}, 0);
        for (int width : new int[] {1, 2, 4, 8}) {
            checkCopy(width, rowDst, row, false);
            checkCopy(width, scalarDst, scalar, true);
        }
    }

    @Test
    void copiesEmptyScalarAndEightDimensionalViews() {
        for (int width : new int[] {1, 2, 4, 8}) {
            // numel 0: nothing may be written.
            checkCopy(width, new View(new long[] {4, 0, 3}, new long[] {3, 3, 1}, 0),
                    new View(new long[] {4, 0, 3}, new long[] {1, 4, 4}, 0), false);
            // ndim 0: one element.
            checkCopy(width, new View(new long[0], new long[0], 2), new View(new long[0], new long[0], 1), false);
            long[] sizes = {2, 3, 2, 1, 3, 2, 2, 3};
            long[] reversed = contiguousStrides(new long[] {3, 2, 2, 3, 1, 2, 3, 2});
            long[] transposed = new long[8];
            for (int d = 0; d < 8; d++) transposed[d] = reversed[7 - d];
            checkCopy(width, new View(sizes, contiguousStrides(sizes), 0), new View(sizes, transposed, 0), true);
        }
    }

    @Test
    void copiesRandomViewsAgainstTheCpuReference() {
        for (int trial = 0; trial < 200; trial++) {
            int ndim = random.nextInt(9);
            long[] sizes = new long[ndim];
            long budget = 20_000;
            for (int d = 0; d < ndim; d++) {
                sizes[d] = 1 + random.nextInt((int) Math.max(1, Math.min(12, budget)));
                budget = Math.max(1, budget / sizes[d]);
            }
            int width = 1 << random.nextInt(4);
            checkCopy(width, randomView(sizes, false), randomView(sizes, true), random.nextBoolean());
        }
    }

    /**
     * A view of the given sizes over some storage: dimensions laid out in a random order,
     * sometimes with padding between them, sometimes reversed (negative stride), and for a
     * source sometimes broadcast (stride 0). The storage offset keeps every index >= 0.
     */
    private View randomView(long[] sizes, boolean source) {
        int ndim = sizes.length;
        List<Integer> order = new ArrayList<>();
        for (int d = 0; d < ndim; d++) order.add(d);
        Collections.shuffle(order, random);
        long[] strides = new long[ndim];
        long next = 1;
        for (int d : order.reversed()) {
            strides[d] = next;
            next *= sizes[d] + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
        }
        for (int d = 0; d < ndim; d++) {
            if (source && random.nextInt(5) == 0) strides[d] = 0;
            else if (random.nextInt(6) == 0) strides[d] = -strides[d];
        }
        View v = new View(sizes, strides, 0);
        return new View(sizes, strides, -v.extent()[0] + random.nextInt(3));
    }

    /**
     * Copies src into dst on the GPU through ember_strided_copy_&lt;width&gt; and compares the
     * whole destination storage with the CPU reference applied to the same random bytes.
     */
    private void checkCopy(int width, View dst, View src, boolean tinyGrid) {
        long srcElems = src.extent()[1] + 1;
        long dstElems = dst.extent()[1] + 1;
        byte[] srcBytes = randomBytes(srcElems * width);
        byte[] dstBefore = randomBytes(dstElems * width);
        byte[] expected = dstBefore.clone();
        referenceCopy(width, expected, dst, srcBytes, src);

        long function = CudaDriver.moduleGetFunction(copyModule, "ember_strided_copy_" + width);
        long dSrc = CudaDriver.memAlloc(srcBytes.length);
        long dDst = CudaDriver.memAlloc(dstBefore.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hostSrc = arena.allocateFrom(ValueLayout.JAVA_BYTE, srcBytes);
            MemorySegment hostDst = arena.allocateFrom(ValueLayout.JAVA_BYTE, dstBefore);
            CudaDriver.memcpyHtoD(dSrc, hostSrc, srcBytes.length);
            CudaDriver.memcpyHtoD(dDst, hostDst, dstBefore.length);

            MemorySegment params = new KernelArgs(arena)
                    .addPointer(dDst + dst.offset() * width)
                    .addPointer(dSrc + src.offset() * width)
                    .addStruct(layout(arena, dst, src), 8)
                    .build();
            long numel = src.numel();
            int grid = tinyGrid ? 3 : (int) Math.max(1, Math.min((numel + BLOCK - 1) / BLOCK, 4096));
            CudaDriver.launchKernel(function, grid, 1, 1, BLOCK, 1, 1, 0, 0, params);
            CudaDriver.streamSynchronize(0);
            CudaDriver.memcpyDtoH(hostDst, dDst, dstBefore.length);

            byte[] actual = hostDst.toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < actual.length; i++) {
                if (actual[i] != expected[i]) {
                    fail("ember_strided_copy_" + width + (tinyGrid ? " (3 blocks)" : "") + ": dst element "
                            + (i / width) + " byte " + (i % width) + " is " + actual[i] + ", expected "
                            + expected[i] + ", seed " + seed + "\n  dst " + dst + "\n  src " + src);
                }
            }
        } finally {
            CudaDriver.memFree(dSrc);
            CudaDriver.memFree(dDst);
        }
    }

    /**
     * The kernel's EmberStridedLayout, byte for byte: int64 sizes[8] at 0, dst_strides[8]
     * at 64, src_strides[8] at 128, int32 ndim at 192, int32 reserved at 196.
     */
    private static MemorySegment layout(Arena arena, View dst, View src) {
        int ndim = src.sizes().length;
        MemorySegment s = arena.allocate(200, 8); // zeroed: unused dims and reserved stay 0
        for (int d = 0; d < ndim; d++) {
            s.set(ValueLayout.JAVA_LONG, 8L * d, src.sizes()[d]);
            s.set(ValueLayout.JAVA_LONG, 64 + 8L * d, dst.strides()[d]);
            s.set(ValueLayout.JAVA_LONG, 128 + 8L * d, src.strides()[d]);
        }
        s.set(ValueLayout.JAVA_INT, 192, ndim);
        return s;
    }

    /** The plain definition: walk the index space in row-major order, one element at a time. */
    private static void referenceCopy(int width, byte[] dstStorage, View dst, byte[] srcStorage, View src) {
        assertEquals(Arrays.toString(dst.sizes()), Arrays.toString(src.sizes()));
        int ndim = src.sizes().length;
        long[] index = new long[ndim];
        for (long i = 0; i < src.numel(); i++) {
            long s = src.offset();
            long d = dst.offset();
            for (int k = 0; k < ndim; k++) {
                s += index[k] * src.strides()[k];
                d += index[k] * dst.strides()[k];
            }
            System.arraycopy(srcStorage, Math.toIntExact(s * width), dstStorage, Math.toIntExact(d * width), width);
            for (int k = ndim - 1; k >= 0; k--) {
                if (++index[k] < src.sizes()[k]) break;
                index[k] = 0;
            }
        }
    }

    private byte[] randomBytes(long n) {
        byte[] b = new byte[Math.toIntExact(n)];
        random.nextBytes(b);
        return b;
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The elementwise ops of {@link UnaryOpsTest} and {@link BinaryOpsTest} (the same case
 * declarations) run on CUDA tensors of random shapes and layouts (strided views of a device
 * base, broadcast operands, zero-size tensors), compared with the CPU backend on the same
 * inputs, which those classes check against float64 references. Also transfers, printing and
 * device errors. Skipped without a CUDA driver and device.
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaElementwiseGpuTest {
    private static final int TRIALS = 6;

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    static List<UnaryOpsTest.Case> unaryCases() { return UnaryOpsTest.cases(); }

    static List<BinaryOpsTest.Case> binaryCases() { return BinaryOpsTest.cases(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unaryCases")
    void unaryOpsMatchTheCpu(UnaryOpsTest.Case c) {
        Rng r = Rng.fresh();
        for (DType t : c.dtypes()) {
            for (int trial = 0; trial < TRIALS; trial++) {
                TT x = TestTensors.random(r, t, TestTensors.randomShape(r, 4, 6), c.domain());
                Tensor expected = c.op().apply(x.t());
                Tensor actual = c.op().apply(onCuda(x));
                assertSameValues(c.name() + " " + t + " " + x + " " + r, expected, actual);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryCases")
    void binaryOpsMatchTheCpuWithBroadcasting(BinaryOpsTest.Case c) {
        Rng r = Rng.fresh();
        for (DType ta : c.dtypes) {
            DType tb = r.pick(c.dtypes);
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] shape = TestTensors.randomShape(r, 4, 6);
                TT a = TestTensors.random(r, ta, shape, c.domA);
                TT b = TestTensors.random(r, tb, TestTensors.broadcastableTo(r, shape), c.domB);
                String ctx = c.name + " " + ta + "," + tb + " " + a + " " + b + " " + r;
                Tensor expected;
                try {
                    expected = c.op.apply(a.t(), b.t());
                } catch (RuntimeException e) {
                    // the CPU refuses integer division by zero; a kernel cannot throw, and like PyTorch's it
                    // writes a value instead, so there is nothing to compare
                    continue;
                }
                assertSameValues(ctx, expected, c.op.apply(onCuda(a), onCuda(b)));
            }
        }
    }

    @Test
    void transfersKeepEveryDtypeBitForBitAndTheGeometry() {
        Rng r = Rng.fresh();
        for (DType t : TestTensors.ALL) {
            TT x = TestTensors.random(r, t, TestTensors.randomShape(r, 4, 9));
            Tensor back = x.t().cuda().cpu();
            assertEquals(Device.cpu(), back.device());
            assertArrayEquals(x.t().shape(), back.shape());
            assertSameValues("round trip " + t + " " + r, x.t(), back);
            Tensor there = x.t().to(Device.cuda());
            assertEquals(Device.cuda(), there.device());
            assertTrue(there.isCuda());
        }
    }

    @Test
    void nonBlockingCopiesGoThroughPinnedMemoryAndReadsWaitForThem() {
        Rng r = Rng.fresh();
        for (DType t : TestTensors.ALL) {
            TT x = TestTensors.random(r, t, TestTensors.randomShape(r, 4, 9));
            Tensor pinned = x.t().pinMemory();
            assertTrue(pinned.isPinned());
            assertFalse(x.t().isPinned());
            assertSameValues("pinned " + t + " " + r, x.t(), pinned);
            Tensor there = pinned.to(Device.cuda(), true);
            // queued work on the stream, then a copy back that returns before it has run
            Tensor doubled = there.add(there);
            Tensor back = doubled.to(Device.cpu(), true);
            assertTrue(back.isPinned());
            assertEquals(Device.cpu(), back.device());
            assertSameValues("non-blocking round trip " + t + " " + r, x.t().add(x.t()), back);
            // the pinned source may be closed at once: its block is reused only after the copy ran
            pinned.close();
        }
        Tensor a = Tensor.ones(3).cuda();
        assertThrows(IllegalArgumentException.class, a::pinMemory);
    }

    @Test
    void printingReadsTheDeviceAndNamesIt() {
        Tensor t = Tensor.arange(4).to(DType.FLOAT32).cuda();
        assertEquals("tensor([0., 1., 2., 3.], device='cuda:0')", t.toString());
    }

    @Test
    void mixingDevicesFailsWithPyTorchsMessageButHostScalarsAreWelcome() {
        Tensor a = Tensor.ones(3).cuda();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(Tensor.ones(3)));
        assertEquals("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
                e.getMessage());
        assertArrayEquals(new float[] {3, 3, 3}, a.add(Tensor.scalar(2)).cpu().toFloatArray());
        assertArrayEquals(new float[] {3, 3, 3}, a.add(2.0).cpu().toFloatArray());
        // host scalars travel as the fill kernel's double argument, except integers a double cannot hold
        long big = (1L << 60) + 3;
        Tensor ints = Tensor.fromArray(new long[] {1, -2}).cuda();
        assertArrayEquals(new long[] {big + 1, big - 2}, ints.add(Tensor.fromArray(new long[] {big}).squeeze()).cpu().toLongArray());
        assertArrayEquals(new long[] {8, -16}, ints.mul(Tensor.fromArray(new long[] {8}).squeeze()).cpu().toLongArray());
    }

    @Test
    void cpuKernelsRefuseDeviceTensorsWithAMessage() {
        Tensor a = Tensor.ones(3).cuda();
        IllegalStateException e = assertThrows(IllegalStateException.class, a::data);
        assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
    }

    /** x's values on cuda:0 in x's own layout: its base moved over and viewed the same way. */
    static Tensor onCuda(TT x) {
        Tensor base = x.base();
        Tensor t = x.t();
        if (base != null && base.isContiguous() && base.offset == 0 && t.sharesStorageWith(base)) {
            Tensor deviceBase = base.cuda();
            return deviceBase.alias(t.shape.clone(), t.strides.clone(), t.offset);
        }
        return t.cuda();
    }

    /** Same dtype, shape and values: exact for integers and bool, else within the dtype's tolerance; NaN where NaN. */
    static void assertSameValues(String ctx, Tensor expected, Tensor actual) {
        assertEquals(expected.dtype(), actual.dtype(), ctx);
        assertArrayEquals(expected.shape(), actual.shape(), ctx);
        double[] e = expected.cpu().toDoubleArray(), a = actual.cpu().toDoubleArray();
        double tol = switch (expected.dtype()) {
            case FLOAT16, BFLOAT16 -> 1e-2;
            case FLOAT32 -> 2e-5;
            case FLOAT64 -> 1e-12;
            default -> 0;
        };
        for (int i = 0; i < e.length; i++) {
            if (Double.isNaN(e[i]) != Double.isNaN(a[i])) fail(ctx + ": element " + i + " is " + a[i] + ", expected " + e[i]);
            if (Double.isNaN(e[i]) || e[i] == a[i]) continue;
            if (Math.abs(e[i] - a[i]) > tol * Math.max(1, Math.abs(e[i]))) {
                fail(ctx + ": element " + i + " is " + a[i] + ", expected " + e[i]);
            }
        }
    }
}

package dev.ember.tensor;

import static dev.ember.tensor.CudaElementwiseGpuTest.assertSameValues;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The views and joins of {@link ViewsTest} and {@link JoiningTest} on CUDA tensors: views share
 * the device storage, and whatever copies (contiguous, clone, dtype conversion, cat, stack)
 * gives the CPU's values for every dtype, from random shapes in random layouts. Skipped without
 * a CUDA driver and device.
 */
@Tag("gpu")
@ExtendWith(TestTensors.Scoped.class)
class CudaViewsJoiningGpuTest {
    private static final int TRIALS = 5;

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    /** A view or copy of a tensor of rank at least 1, the same on both devices. */
    private record Case(String name, UnaryOperator<Tensor> op) {}

    private static List<Case> cases(Rng r, long[] shape) {
        int rank = shape.length, d = r.nextInt(0, rank - 1);
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("transpose+contiguous", t -> t.transpose(0, rank - 1).contiguous()));
        cases.add(new Case("permute+clone", t -> {
            int[] p = new int[rank];
            for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
            return t.permute(p).clone();
        }));
        cases.add(new Case("narrow", t -> t.narrow(d, 0, Math.max(0, shape[d] - 1))));
        cases.add(new Case("select", t -> shape[d] == 0 ? t : t.select(d, shape[d] - 1)));
        cases.add(new Case("reshape", t -> t.reshape(-1)));
        cases.add(new Case("expand+contiguous", t -> t.unsqueeze(0).expand(prepend(3, shape)).contiguous()));
        cases.add(new Case("to float64", t -> t.to(DType.FLOAT64)));
        cases.add(new Case("to int32", t -> t.to(DType.INT32)));
        cases.add(new Case("fill_", t -> t.clone().fill_(2.5)));
        return cases;
    }

    private static long[] prepend(long first, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = first;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }

    @Test
    void viewsAndCopiesMatchTheCpu() {
        Rng r = Rng.fresh();
        for (DType t : TestTensors.ALL) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] shape = TestTensors.randomShape(r, 4, 6);
                if (shape.length == 0) shape = new long[] {3};
                TT x = TestTensors.random(r, t, shape);
                Tensor onCuda = x.t().cuda();
                for (Case c : cases(r, shape)) {
                    Tensor expected = c.op().apply(x.t());
                    Tensor actual = c.op().apply(onCuda);
                    assertEquals(Device.cuda(), actual.device(), c.name());
                    assertSameValues(c.name() + " " + t + " " + x + " " + r, expected, actual);
                }
            }
        }
    }

    @Test
    void viewsShareTheDeviceStorage() {
        Tensor a = Tensor.arange(12).to(DType.FLOAT32).reshape(3, 4).cuda();
        Tensor v = a.transpose(0, 1).narrow(0, 1, 2);
        assertTrue(v.sharesStorageWith(a));
        v.fill_(-1);
        assertSameValues("write through a view", Tensor.fromArray(new float[] {0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11},
                3, 4), a);
    }

    @Test
    void elementAccessorsReadAndWriteOneDeviceElement() {
        Tensor a = Tensor.arange(12).to(DType.FLOAT64).reshape(3, 4).cuda();
        Tensor t = a.transpose(0, 1);
        assertEquals(9.0, t.get(1, 2));
        t.set(-5, 1, 2);
        assertEquals(-5.0, a.get(2, 1));
        assertEquals(-5.0, a.cpu().get(2, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> a.get(3, 0));
    }

    @Test
    void catStackSplitAndChunkMatchTheCpu() {
        Rng r = Rng.fresh();
        for (DType t : TestTensors.ALL) {
            for (int trial = 0; trial < TRIALS; trial++) {
                long[] shape = TestTensors.randomShape(r, 3, 5);
                if (shape.length == 0) shape = new long[] {2};
                int d = r.nextInt(0, shape.length - 1);
                List<Tensor> host = new ArrayList<>(), device = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    // a mix of dtypes, so cat and stack promote on both devices alike
                    DType ti = i == 1 ? r.pick(TestTensors.ALL) : t;
                    Tensor part = TestTensors.random(r, ti, shape).t();
                    host.add(part);
                    device.add(part.cuda());
                }
                String ctx = t + " " + java.util.Arrays.toString(shape) + " dim " + d + " " + r;
                assertSameValues("cat " + ctx, Tensor.cat(host, d), Tensor.cat(device, d));
                assertSameValues("stack " + ctx, Tensor.stack(host, d), Tensor.stack(device, d));
                Tensor joined = Tensor.cat(device, d);
                List<Tensor> pieces = joined.split(2, d), hostPieces = Tensor.cat(host, d).split(2, d);
                assertEquals(hostPieces.size(), pieces.size());
                for (int i = 0; i < pieces.size(); i++) {
                    assertTrue(pieces.get(i).sharesStorageWith(joined));
                    assertSameValues("split " + i + " " + ctx, hostPieces.get(i), pieces.get(i));
                }
                assertEquals(Tensor.cat(host, d).chunk(2, d).size(), joined.chunk(2, d).size());
            }
        }
    }

    @Test
    void joiningTensorsOfTwoDevicesGetsPyTorchsMessage() {
        Tensor a = Tensor.ones(2, 2).cuda(), b = Tensor.ones(2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(a, b), 0));
        assertEquals("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.stack(List.of(b, a), 0));
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.kernels.KernelImages;
import dev.ember.tensor.CudaReductions.Kernel;
import dev.ember.tensor.TestTensors.Domain;
import dev.ember.tensor.TestTensors.Rng;
import dev.ember.tensor.TestTensors.TT;
import dev.ember.tensor.cuda.CudaKernels;
import dev.ember.tensor.cuda.ReduceLaunch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The host side of the CUDA reductions, checked without a GPU: every kernel name the CUDA
 * reductions, softmax, cumsum and fused losses look up (by the naming rules in
 * {@link CudaReductions} and {@link CudaLosses}) is in the kernel images this build made, for
 * every dtype the CPU runs the op for; and the [outer, r, inner] lines the kernels are given
 * (the tensor in place, or its copy in the chosen dim order) hold, for each output, exactly the
 * elements the CPU folds into it and in the same order (which argmax's first index relies on),
 * read with the kernels' own indexing on host copies of random tensors.
 */
@ExtendWith(TestTensors.Scoped.class)
class CudaReductionHostTest {

    @Test
    void everyReductionHasItsKernelAndFinishPassForEachDtype() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> missing = new ArrayList<>();
        for (Kernel k : Kernel.values()) {
            for (DType t : DType.values()) {
                // floating-only kernels read the input converted to the result's dtype (logsumexp of ints: float32)
                DType read = k.inputType(t, t.isFloatingPoint() ? t : DType.FLOAT32);
                for (String name : new String[] {k.entry(read), k.finish(read)}) if (!CudaKernels.exists(name)) missing.add(name);
            }
        }
        assertTrue(missing.isEmpty(), "CUDA kernels missing: " + missing);
    }

    @Test
    void softmaxCumsumAndLossesHaveTheirKernels() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> names = new ArrayList<>();
        for (DType t : DType.values()) {
            names.add(CudaReductions.scanKernel("cumsum", t));
            if (!t.isFloatingPoint()) continue;
            for (boolean log : new boolean[] {false, true}) {
                names.add(CudaReductions.softmaxKernel(log, false, t));
                names.add(CudaReductions.softmaxKernel(log, true, t));
            }
            for (String loss : new String[] {"cross_entropy_fwd", "cross_entropy_bwd", "nll_fwd", "nll_bwd", "reduce"}) {
                names.add(CudaLosses.kernel(loss, t));
            }
        }
        List<String> missing = names.stream().filter(n -> !CudaKernels.exists(n)).toList();
        assertTrue(missing.isEmpty(), "CUDA kernels missing: " + missing);
    }

    @Test
    void reductionLinesHoldEachOutputsElementsInTheCpusOrder() {
        for (int trial = 0; trial < 400; trial++) {
            Rng r = Rng.fresh();
            long[] shape = r.chance(0.3) ? TestTensors.randomShape(r, 2, 30) : TestTensors.randomShape(r, 5, 4);
            TT x = TestTensors.random(r, DType.FLOAT64, shape, Domain.plain(-100, 100));
            int[] dims = ReductionsTest.randomDims(r, shape.length, false);
            boolean[] reduced = ReductionsTest.reducedDims(shape, dims);
            String ctx = x + " dims=" + Arrays.toString(dims) + ", " + r;
            ReduceLaunch.Lines g = ReduceLaunch.Lines.ofReduction(shape, x.t().isContiguous(), reduced);
            double[][] expected = ReductionsTest.slices(x.values(), shape, reduced);
            assertEquals(expected.length, g.outputs(), ctx + ": outputs");
            if (g.outputs() == 0 || g.r() == 0) {
                for (double[] slice : expected) assertEquals(0, slice.length, ctx);
                continue;
            }
            double[] memory;
            if (g.copyOrder() == null) {
                assertTrue(x.t().isContiguous(), ctx + ": read in place but not contiguous");
                memory = x.values(); // a contiguous tensor's memory is its row-major values
            } else {
                memory = x.t().permute(g.copyOrder()).contiguous().toDoubleArray();
            }
            for (int q = 0; q < expected.length; q++) {
                long o = q / g.inner(), i = q % g.inner();
                double[] line = new double[(int) g.r()];
                for (int k = 0; k < line.length; k++) line[k] = memory[(int) ((o * g.r() + k) * g.inner() + i)];
                assertArrayEquals(expected[q], line, ctx + ": output " + q);
            }
        }
    }

    @Test
    void linesAlongADimAreTheCpusLines() {
        for (int trial = 0; trial < 200; trial++) {
            Rng r = Rng.fresh();
            long[] shape = TestTensors.randomShape(r, 4, 6);
            int dim = ReductionSoftmaxTest.randomDim(r, shape.length);
            int d = shape.length == 0 ? 0 : Math.floorMod(dim, shape.length);
            double[] values = new double[(int) TestTensors.numel(shape)];
            for (int i = 0; i < values.length; i++) values[i] = i;
            ReduceLaunch.Lines g = ReduceLaunch.Lines.along(shape, d);
            assertEquals(values.length, g.outer() * g.r() * g.inner(), Arrays.toString(shape));
            // each line, read with the kernels' indexing, reversed in place: the CPU's lines must see the same
            double[] viaKernel = values.clone();
            for (long o = 0; o < g.outer(); o++) {
                for (long i = 0; i < g.inner(); i++) {
                    for (long k = 0; k < g.r() / 2; k++) {
                        int a = (int) ((o * g.r() + k) * g.inner() + i), b = (int) ((o * g.r() + g.r() - 1 - k) * g.inner() + i);
                        double t = viaKernel[a];
                        viaKernel[a] = viaKernel[b];
                        viaKernel[b] = t;
                    }
                }
            }
            double[] viaCpu = ReductionSoftmaxTest.alongLines(values, shape, dim, line -> {
                double[] out = new double[line.length];
                for (int k = 0; k < line.length; k++) out[k] = line[line.length - 1 - k];
                return out;
            });
            assertArrayEquals(viaCpu, viaKernel, Arrays.toString(shape) + " dim=" + dim);
        }
    }
}

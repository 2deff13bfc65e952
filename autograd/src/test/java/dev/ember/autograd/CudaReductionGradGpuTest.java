package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NORMAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.ember.ffi.Cuda;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Float64 gradient checks of the reductions, softmax, logSoftmax and cumsum running on CUDA:
 * gradcheck perturbs host leaves, so each function moves its input to the device, runs the op
 * there and brings the result back (both copies are differentiable). A backward without
 * create_graph runs softmax's fused backward kernels; the second-order checks (create_graph)
 * run their composed form on the device. Also the fused backward against the CPU's in float32.
 * Skipped without a CUDA driver and device.
 */
@Tag("gpu")
class CudaReductionGradGpuTest {

    private record R(String name, UnaryOperator<Tensor> f) {}

    /** f applied on a CUDA copy of the (host) input, its result copied back. */
    private static Function<Tensor[], Tensor> onCuda(UnaryOperator<Tensor> f) {
        return t -> f.apply(t[0].cuda()).cpu();
    }

    @TestFactory
    Stream<DynamicTest> gradientsOnCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        Stream.Builder<R> cases = Stream.builder();
        for (int dim : new int[] {0, 1, -1}) {
            cases.add(new R("softmax(" + dim + ")", x -> x.softmax(dim)));
            cases.add(new R("logSoftmax(" + dim + ")", x -> x.logSoftmax(dim)));
            cases.add(new R("cumsum(" + dim + ")", x -> x.cumsum(dim)));
        }
        int[][] dimSets = {{}, {0}, {1}, {-1}, {0, 2}, {2, 0}};
        for (int[] dims : dimSets) {
            for (boolean keep : new boolean[] {false, true}) {
                String at = java.util.Arrays.toString(dims) + (keep ? " keepdim" : "");
                cases.add(new R("sum " + at, x -> x.sum(dims, keep)));
                cases.add(new R("mean " + at, x -> x.mean(dims, keep)));
                cases.add(new R("var " + at, x -> x.var(dims, 1, keep)));
                cases.add(new R("std " + at, x -> x.std(dims, 0, keep)));
                cases.add(new R("norm " + at, x -> x.norm(2, dims, keep)));
                cases.add(new R("logsumexp " + at, x -> x.logsumexp(dims, keep)));
            }
        }
        cases.add(new R("softmax then sum (an expanded upstream gradient)", x -> x.softmax(1).mul(x).sum()));
        cases.add(new R("logSoftmax then mean", x -> x.logSoftmax(-1).mean()));
        return cases.build().map(c -> dynamicTest(c.name(), () -> {
            Inputs in = new Inputs();
            long[] shape = {2 + in.nextInt(2), 2 + in.nextInt(2), 2 + in.nextInt(2)}; // no size 1: var's dof stays > 0
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> in.check(c.name() + " on CUDA", onCuda(c.f()), in.leaf(NORMAL, contiguous, shape)));
            }
        }));
    }

    /** create_graph: softmax's backward on the device is then built from ops, and itself differentiable. */
    @TestFactory
    Stream<DynamicTest> secondOrderSoftmaxOnCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        return Stream.of(new R("softmax", x -> x.softmax(1)), new R("logSoftmax", x -> x.logSoftmax(-1)),
                new R("sum squared", x -> x.sum(1).pow(2L))).map(c -> dynamicTest(c.name(), () -> {
                    Inputs in = new Inputs();
                    Inputs.scoped(() -> {
                        Tensor x = in.leaf(NORMAL, 2, 3);
                        Function<Tensor[], Tensor> f = onCuda(c.f());
                        Tensor probe;
                        try (var ng = Ember.noGrad()) {
                            probe = f.apply(new Tensor[] {x});
                        }
                        Tensor v = in.constant(NORMAL, probe.shape());
                        in.check("grad of grad of " + c.name() + " on CUDA", t -> SecondOrderGradCheckTest.vjp(f, t, v), x);
                    });
                }));
    }

    /** The fused float32 backward kernels give the CPU's gradients (to float32 rounding) over long rows and columns. */
    @Test
    void fusedSoftmaxBackwardMatchesTheCpuInFloat32() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        Inputs in = new Inputs();
        for (long[] shape : new long[][] {{4, 3000}, {3, 9000}, {64, 40}, {5, 7, 3}}) {
            for (boolean log : new boolean[] {false, true}) {
                for (int dim : new int[] {-1, 0}) {
                    Inputs.scoped(() -> {
                        Tensor host = in.constant(NORMAL, shape).to(DType.FLOAT32).requiresGrad_();
                        Tensor upstream = in.constant(NORMAL, shape).to(DType.FLOAT32);
                        (log ? host.logSoftmax(dim) : host.softmax(dim)).backward(upstream);
                        Tensor device = host.detach().cuda().requiresGrad_();
                        (log ? device.logSoftmax(dim) : device.softmax(dim)).backward(upstream.cuda());
                        assertTrue(device.grad().isCuda());
                        double[] expected = host.grad().toDoubleArray(), got = device.grad().toDoubleArray();
                        for (int i = 0; i < expected.length; i++) {
                            double tol = 1e-4 * (1 + Math.abs(expected[i]));
                            if (!(Math.abs(expected[i] - got[i]) <= tol)) {
                                throw new AssertionError((log ? "logSoftmax" : "softmax") + " " + java.util.Arrays.toString(shape) + " dim="
                                        + dim + " (seed " + in.seed + "L): element " + i + " is " + got[i] + ", expected " + expected[i]);
                            }
                        }
                    });
                }
            }
        }
    }

    /** A sum's gradient on CUDA is an expanded view of ones: it reaches a CUDA leaf as a plain CUDA tensor. */
    @Test
    void sumAndMeanGradientsStayOnTheDevice() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        Inputs.scoped(() -> {
            Tensor x = Tensor.ones(DType.FLOAT32, 2, 3).cuda().requiresGrad_();
            x.sum().add(x.mean(new int[] {1}, false).sum()).backward();
            assertTrue(x.grad().isCuda());
            assertArrayEquals(new long[] {2, 3}, x.grad().shape());
            assertArrayEquals(new float[] {4f / 3, 4f / 3, 4f / 3, 4f / 3, 4f / 3, 4f / 3}, x.grad().toFloatArray(), 1e-6f);
        });
    }
}

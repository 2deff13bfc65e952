package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NORMAL;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.tensor.Tensor;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Float64 gradient checks of the matrix products on CUDA (cuBLAS). The leaves stay on the host,
 * where gradcheck perturbs them; each function moves them to the device, multiplies there
 * (transposed views included, so both OP_N and OP_T operands are differentiated) and brings the
 * result back, so the forward products and every product of their backward run through cuBLAS.
 * Skipped without CUDA.
 */
@Tag("gpu")
class CudaLinAlgGradCheckGpuTest {

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    private static long[] s(long... shape) {
        return shape;
    }

    /** f on the device: the inputs moved over, the result moved back. */
    private static Function<Tensor[], Tensor> onCuda(Function<Tensor[], Tensor> f) {
        return t -> {
            Tensor[] d = new Tensor[t.length];
            for (int i = 0; i < t.length; i++) d[i] = t[i].cuda();
            return f.apply(d).cpu();
        };
    }

    @Test
    void matmulOfVectorsMatricesAndEqualBatches() {
        long[][][] pairs = {
            {s(3), s(3)},             // 1-D . 1-D -> 0-d
            {s(3), s(3, 4)},          // 1-D . 2-D
            {s(4, 3), s(3)},          // 2-D . 1-D
            {s(2, 3), s(3, 4)},       // 2-D . 2-D
            {s(2, 3, 4), s(2, 4, 2)}, // batched
        };
        Inputs in = new Inputs();
        for (long[][] p : pairs) {
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor a = in.leaf(NORMAL, contiguous, p[0]);
                    Tensor b = in.leaf(NORMAL, contiguous, p[1]);
                    in.check("cuda matmul", onCuda(t -> t[0].matmul(t[1])), a, b);
                });
            }
        }
    }

    @Test
    void mmBmmAddmmWithTransposedOperands() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor a = in.leaf(NORMAL, 2, 3);
            Tensor b = in.leaf(NORMAL, 3, 4);
            in.check("cuda mm", onCuda(t -> t[0].mm(t[1])), a, b);
            in.check("cuda mm of transposes", onCuda(t -> t[1].t().mm(t[0].t())), a, b);
            in.check("cuda mm with one constant", onCuda(t -> t[0].mm(t[1])), a, b.detach());
            Tensor ba = in.leaf(NORMAL, 2, 3, 2);
            Tensor bb = in.leaf(NORMAL, 2, 3, 2);
            in.check("cuda bmm, one operand transposed", onCuda(t -> t[0].bmm(t[1].transpose(1, 2))), ba, bb);
            Tensor self = in.leaf(NORMAL, 2, 4);
            in.check("cuda addmm beta 0.5 alpha 2", onCuda(t -> t[0].addmm(t[1], t[2], 0.5, 2)), self, a, b);
            Tensor w = in.leaf(NORMAL, 4, 3);
            in.check("cuda linear layout: self.addmm(x, w.t())", onCuda(t -> t[0].addmm(t[1], t[2].t())), self, a, w);
        });
    }

    /** Broadcast batches: the backward also sums the gradient over the broadcast dims on the device. */
    @Test
    void matmulWithBroadcastBatches() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor a = in.leaf(NORMAL, 2, 3, 4);
            Tensor b = in.leaf(NORMAL, 4, 2);
            in.check("cuda matmul 3-D . 2-D", onCuda(t -> t[0].matmul(t[1])), a, b);
            Tensor c = in.leaf(NORMAL, 2, 1, 3, 2);
            Tensor d = in.leaf(NORMAL, 3, 2, 2);
            in.check("cuda matmul 4-D . 3-D", onCuda(t -> t[0].matmul(t[1])), c, d);
        });
    }
}

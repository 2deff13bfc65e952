package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NORMAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ember.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Float64 gradient checks of matrix products, indexing ops and joining ops. */
class LinAlgIndexingGradCheckTest {

    private static long[] s(long... shape) {
        return shape;
    }

    @Test
    void matmulInEveryRankCombination() {
        long[][][] pairs = {
            {s(3), s(3)},             // 1-D . 1-D -> 0-d
            {s(3), s(3, 4)},          // 1-D . 2-D
            {s(4, 3), s(3)},          // 2-D . 1-D
            {s(2, 3), s(3, 4)},       // 2-D . 2-D
            {s(2, 3, 4), s(2, 4, 2)}, // batched
            {s(2, 3, 4), s(4, 2)},    // 3-D . 2-D, broadcast
            {s(3, 4), s(2, 4, 2)},    // 2-D . 3-D, broadcast
            {s(2, 1, 3, 2), s(3, 2, 2)}, // 4-D . 3-D, batch dims broadcast both ways
            {s(3), s(2, 3, 2)},       // 1-D . 3-D
            {s(2, 2, 3), s(3)},       // 3-D . 1-D
        };
        Inputs in = new Inputs();
        for (long[][] p : pairs) {
            for (boolean contiguous : new boolean[] {true, false}) {
                Inputs.scoped(() -> {
                    Tensor a = in.leaf(NORMAL, contiguous, p[0]);
                    Tensor b = in.leaf(NORMAL, contiguous, p[1]);
                    in.check("matmul", t -> t[0].matmul(t[1]), a, b);
                });
            }
        }
        Inputs.scoped(() -> {
            Tensor a = in.leaf(NORMAL, 4, 3);
            Tensor b = in.leaf(NORMAL, 4, 2);
            in.check("matmul of a transposed operand", t -> t[0].t().matmul(t[1]), a, b);
            in.check("matmul with one constant operand", t -> t[0].t().matmul(t[1]), a, b.detach());
        });
    }

    @Test
    void mmBmmAddmmOuter() {
        Inputs in = new Inputs();
        for (boolean contiguous : new boolean[] {true, false}) {
            Inputs.scoped(() -> {
                Tensor a = in.leaf(NORMAL, contiguous, 2, 3);
                Tensor b = in.leaf(NORMAL, contiguous, 3, 4);
                in.check("mm", t -> t[0].mm(t[1]), a, b);
                in.check("mm of transposes", t -> t[1].t().mm(t[0].t()), a, b);
                Tensor ba = in.leaf(NORMAL, contiguous, 2, 3, 2);
                Tensor bb = in.leaf(NORMAL, contiguous, 2, 2, 3);
                in.check("bmm", t -> t[0].bmm(t[1]), ba, bb);
                in.check("bmm, one operand transposed", t -> t[0].bmm(t[1].transpose(1, 2)), ba, ba);
                in.check("mm with one constant", t -> t[0].mm(t[1]), a, b.detach());
                Tensor w = in.leaf(NORMAL, contiguous, 4, 3);
                Tensor bias = in.leaf(NORMAL, contiguous, 2, 4);
                in.check("Linear's layout: bias.addmm(x, w.t())", t -> t[0].addmm(t[1], t[2].t()), bias, a, w);
                for (long[] selfShape : new long[][] {s(2, 4), s(4), s(1, 4), s(2, 1), s()}) {
                    Tensor self = in.leaf(NORMAL, contiguous && selfShape.length > 0, selfShape);
                    in.check("addmm beta 0.5 alpha 2 self " + java.util.Arrays.toString(selfShape),
                            t -> t[0].addmm(t[1], t[2], 0.5, 2), self, a, b);
                    in.check("addmm self " + java.util.Arrays.toString(selfShape), t -> t[0].addmm(t[1], t[2]), self, a, b);
                }
                Tensor u = in.leaf(NORMAL, contiguous, 3);
                Tensor v = in.leaf(NORMAL, contiguous, 4);
                in.check("outer", t -> t[0].outer(t[1]), u, v);
            });
        }
    }

    /** Index tensors with no repeats down each column: scatter's result is then defined. */
    private static Tensor distinctRowsPerColumn(Inputs in, long rows, long size, long cols) {
        long[] v = new long[(int) (rows * cols)];
        for (int c = 0; c < cols; c++) {
            java.util.List<Long> pool = new java.util.ArrayList<>();
            for (long i = 0; i < size; i++) pool.add(i);
            java.util.Collections.shuffle(pool, new java.util.Random(in.random.nextLong()));
            for (int r = 0; r < rows; r++) v[(int) (r * cols + c)] = pool.get(r);
        }
        return Tensor.fromArray(v, rows, cols);
    }

    @Test
    void indexing() {
        Inputs in = new Inputs();
        for (boolean contiguous : new boolean[] {true, false}) {
            Inputs.scoped(() -> {
                Tensor x = in.leaf(NORMAL, contiguous, 4, 3);
                Tensor gatherIndex = in.indices(4, 5, 3); // repeats allowed: backward accumulates
                in.check("gather dim 0", t -> t[0].gather(0, Inputs.on(t[0], gatherIndex)), x);
                Tensor gatherIndex1 = in.indices(3, 4, 2);
                in.check("gather dim 1", t -> t[0].gather(1, Inputs.on(t[0], gatherIndex1)), x);

                Tensor idx = distinctRowsPerColumn(in, 2, 4, 3);
                Tensor src = in.leaf(NORMAL, contiguous, 2, 3);
                in.check("scatter with src (self and src)", t -> t[0].scatter(0, Inputs.on(t[0], idx), t[1]), x, src);
                in.check("scatter with src (src only)", t -> t[1].scatter(0, Inputs.on(t[0], idx), t[0]), src, x.detach());
                in.check("scatter with value", t -> t[0].scatter(0, Inputs.on(t[0], idx), 2.5), x);
                Tensor addIndex = in.indices(4, 2, 3); // repeats accumulate
                in.check("scatterAdd", t -> t[0].scatterAdd(0, Inputs.on(t[0], addIndex), t[1]), x, src);

                Tensor sel = Tensor.fromArray(new long[] {2, 0, 2, 3});
                in.check("indexSelect dim 0", t -> t[0].indexSelect(0, Inputs.on(t[0], sel)), x);
                in.check("indexSelect dim 1", t -> t[0].indexSelect(1, Inputs.on(t[0], Tensor.fromArray(new long[] {1, 1, 0}))), x);
                Tensor rows = in.leaf(NORMAL, contiguous, 4, 3);
                in.check("indexAdd dim 0 with repeats", t -> t[0].indexAdd(0, Inputs.on(t[0], sel), t[1]), x, rows);
                Tensor cols = in.leaf(NORMAL, contiguous, 4, 2);
                in.check("indexAdd dim 1", t -> t[0].indexAdd(1, Inputs.on(t[0], Tensor.fromArray(new long[] {2, 0})), t[1]), x, cols);

                Tensor mask = in.mask(4, 3);
                in.check("maskedFill", t -> t[0].maskedFill(Inputs.on(t[0], mask), -1.5), x);
                Tensor rowMask = in.mask(4, 1);
                in.check("maskedFill broadcast mask", t -> t[0].maskedFill(Inputs.on(t[0], rowMask), 0.0), x);
            });
        }
    }

    @Test
    void catStackSplitChunk() {
        Inputs in = new Inputs();
        for (boolean contiguous : new boolean[] {true, false}) {
            Inputs.scoped(() -> {
                Tensor a = in.leaf(NORMAL, contiguous, 2, 3);
                Tensor b = in.leaf(NORMAL, contiguous, 1, 3);
                Tensor c = in.leaf(NORMAL, contiguous, 3, 3);
                in.check("cat dim 0 different sizes", t -> Tensor.cat(List.of(t[0], t[1], t[2]), 0), a, b, c);
                Tensor d = in.leaf(NORMAL, contiguous, 2, 1);
                in.check("cat dim 1", t -> Tensor.cat(List.of(t[0], t[1]), 1), a, d);
                in.check("cat dim -1", t -> Tensor.cat(List.of(t[1], t[0]), -1), a, d);
                in.check("cat with a constant", t -> Tensor.cat(List.of(t[0], t[1]), 0), a, b.detach());
                in.check("cat of the same tensor twice", t -> Tensor.cat(List.of(t[0], t[0].mul(2.0)), 0), a);
                Tensor e = in.leaf(NORMAL, contiguous, 2, 3);
                in.check("stack dim 0", t -> Tensor.stack(List.of(t[0], t[1]), 0), a, e);
                in.check("stack dim 1", t -> Tensor.stack(List.of(t[0], t[1]), 1), a, e);
                in.check("stack dim -1", t -> Tensor.stack(List.of(t[0], t[1]), -1), a, e);
                Tensor x = in.leaf(NORMAL, contiguous, 5, 4);
                in.check("split piece 1", t -> t[0].split(2, 0).get(1), x);
                in.check("split last (short) piece", t -> t[0].split(2, 0).get(2), x);
                in.check("split with sizes", t -> t[0].split(new long[] {1, 3}, 1).get(1), x);
                in.check("chunk", t -> t[0].chunk(3, 0).get(2), x);
                in.check("chunk dim 1 used twice", t -> t[0].chunk(2, 1).get(0).mul(t[0].chunk(2, 1).get(1)), x);
            });
        }
    }

    @Test
    void gradientOfOnePieceLeavesTheRestZero() {
        Inputs.scoped(() -> {
            Tensor x = Tensor.fromArray(new double[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad_();
            List<Tensor> pieces = x.chunk(3, 0);
            pieces.get(1).mul(10.0).sum().backward();
            assertArrayEquals(new double[] {0, 0, 10, 10, 0, 0}, x.grad().toDoubleArray(), 0);
            assertNull(pieces.get(1).grad());
            assertEquals(3, pieces.size());
        });
    }
}

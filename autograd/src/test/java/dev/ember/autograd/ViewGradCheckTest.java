package dev.ember.autograd;

import static dev.ember.autograd.Inputs.NORMAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Float64 gradient checks of the view and copy ops, on contiguous and strided leaves. */
class ViewGradCheckTest {

    private record V(String name, long[] shape, UnaryOperator<Tensor> f) {}

    private static V v(String name, long[] shape, UnaryOperator<Tensor> f) {
        return new V(name, shape, f);
    }

    private static long[] s(long... shape) {
        return shape;
    }

    @TestFactory
    Stream<DynamicTest> views() {
        return Stream.of(
                v("reshape (view path)", s(2, 6), x -> x.reshape(3, 4)),
                v("reshape -1", s(2, 3, 2), x -> x.reshape(-1)),
                v("reshape of a transposed tensor (copy path)", s(3, 4), x -> x.t().reshape(12)),
                v("permute", s(2, 3, 4), x -> x.permute(2, 0, 1)),
                v("permute negative dims", s(2, 3, 4), x -> x.permute(-1, 0, -2)),
                v("transpose", s(2, 3, 4), x -> x.transpose(0, 2)),
                v("transpose negative dims", s(2, 3, 4), x -> x.transpose(-1, -2)),
                v("t 2-D", s(3, 4), Tensor::t),
                v("t 1-D", s(4), Tensor::t),
                v("t 0-d", s(), Tensor::t),
                v("expand", s(3, 1), x -> x.expand(2, 3, 4)),
                v("expand -1", s(3, 1), x -> x.expand(-1, 4)),
                v("expandAs", s(1, 4), x -> x.expandAs(Tensor.zeros(DType.FLOAT64, 3, 4))),
                v("broadcastTo", s(4), x -> x.broadcastTo(2, 3, 4)),
                v("narrow", s(3, 5), x -> x.narrow(1, 1, 3)),
                v("narrow negative start", s(5, 2), x -> x.narrow(0, -3, 2)),
                v("slice", s(6, 2), x -> x.slice(0, 1, 5)),
                v("slice with step", s(3, 7), x -> x.slice(1, 1, 7, 3)),
                v("slice negative bounds with step", s(8), x -> x.slice(0, -7, -1, 2)),
                v("select", s(3, 4), x -> x.select(0, 1)),
                v("select negative", s(2, 3, 4), x -> x.select(-1, -1)),
                v("squeeze all", s(1, 3, 1, 2), Tensor::squeeze),
                v("squeeze dim", s(3, 1, 2), x -> x.squeeze(1)),
                v("squeeze dim not of size 1", s(3, 2), x -> x.squeeze(0)),
                v("unsqueeze", s(3, 2), x -> x.unsqueeze(0)),
                v("unsqueeze last", s(3, 2), x -> x.unsqueeze(-1)),
                v("flatten", s(2, 3, 2), Tensor::flatten),
                v("flatten 1..2", s(2, 3, 2), x -> x.flatten(1, 2)),
                v("flatten 0-d", s(), Tensor::flatten),
                v("unflatten", s(2, 6), x -> x.unflatten(1, 2, 3)),
                v("unflatten -1", s(6, 2), x -> x.unflatten(0, 3, -1)),
                v("contiguous", s(3, 4), Tensor::contiguous),
                v("contiguous of a transposed tensor", s(3, 4), x -> x.t().contiguous()),
                v("clone", s(3, 4), Tensor::clone),
                v("to(FLOAT64) from FLOAT64", s(3, 4), x -> x.to(DType.FLOAT64)),
                v("sumToSize trailing", s(2, 3, 4), x -> x.sumToSize(3, 1)),
                v("sumToSize leading", s(2, 3, 4), x -> x.sumToSize(1, 4)),
                v("sumToSize same", s(2, 3), x -> x.sumToSize(2, 3)),
                v("view chain then math", s(2, 6), x -> x.view(3, 4).t().mul(x.view(4, 3)).exp()))
                .map(c -> dynamicTest(c.name(), () -> {
                    Inputs in = new Inputs();
                    for (boolean contiguous : new boolean[] {true, false}) {
                        if (!contiguous && c.shape().length == 0) continue;
                        Inputs.scoped(() -> in.check(c.name(), t -> c.f().apply(t[0]), in.leaf(NORMAL, contiguous, c.shape())));
                    }
                }));
    }

    /** view needs strides it can express: contiguous leaves only. */
    @Test
    void view() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor x = in.leaf(NORMAL, 2, 6);
            in.check("view", t -> t[0].view(3, 4), x);
            in.check("view -1", t -> t[0].view(-1), x);
            in.check("view to more dims", t -> t[0].view(2, 2, 3), x);
            in.check("view of a slice of rows", t -> t[0].narrow(0, 1, 1).view(2, 3), x);
        });
    }

    @Test
    void reshapeTakesBothPaths() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor x = in.leaf(NORMAL, 3, 4);
            Tensor viewed = x.reshape(4, 3);
            assertTrue(viewed.sharesStorageWith(x), "reshape of a contiguous tensor is a view");
            Tensor copied = x.t().reshape(12);
            assertFalse(copied.sharesStorageWith(x), "reshape of a transposed tensor copies");
            assertTrue(copied.requiresGrad());
            copied.mul(Tensor.arange(12).to(DType.FLOAT64)).sum().backward();
            double[] g = x.grad().toDoubleArray();
            // copied[k] = x.t()[k / 3][k % 3] = x[k % 3][k / 3], weighted by k
            for (int k = 0; k < 12; k++) assertEquals(k, g[(k % 3) * 4 + k / 3], 0);
        });
    }

    @Test
    void viewOfAViewSharesTheGraph() {
        Inputs in = new Inputs();
        Inputs.scoped(() -> {
            Tensor x = in.leaf(NORMAL, 2, 3);
            Tensor y = x.view(6).narrow(0, 2, 3);
            assertTrue(y.sharesStorageWith(x));
            y.sum().backward();
            assertEquals("[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]", java.util.Arrays.toString(x.grad().toDoubleArray()));
        });
    }
}

package dev.ember.nn.optim;

import static dev.ember.nn.optim.Reference.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** clipGradNorm against torch.nn.utils.clip_grad_norm_ (2-, 1-, 3- and inf-norms; float64 and float32). */
@SuppressWarnings("try") // scopes are held for their effect
class GradClipTest {
    @TestFactory
    Stream<DynamicTest> matchesPyTorch() {
        return Reference.section("clip").stream()
                .map(c -> DynamicTest.dynamicTest((String) c.get("name"), () -> replay(c)));
    }

    private static void replay(Map<String, Object> c) {
        DType dtype = Reference.dtype(c);
        double tol = Reference.tolerance(dtype);
        double scale = (Double) c.get("scale");
        double normType = "inf".equals(c.get("norm_type")) ? Double.POSITIVE_INFINITY : (Double) c.get("norm_type");
        try (var scope = Ember.scope()) {
            List<Tensor> params = Reference.initialParams(dtype);
            for (int i = 0; i < params.size(); i++) {
                double[] g = Reference.grad(0, i);
                for (int j = 0; j < g.length; j++) g[j] *= scale;
                params.get(i).setGrad(Reference.tensor(g, params.get(i).shape(), dtype));
            }
            double total = GradClip.clipGradNorm(params, (Double) c.get("max_norm"), normType);
            Reference.assertClose((Double) c.get("total_norm"), total, tol, c.get("name") + " total norm");
            List<Object> grads = list(c.get("grads"));
            for (int i = 0; i < params.size(); i++) {
                assertEquals(dtype, params.get(i).grad().dtype());
                Reference.assertClose(Reference.doubles(grads.get(i)), params.get(i).grad(), tol, c.get("name") + " grad " + i);
            }
        }
    }

    @Test
    void noGradientsGiveZero() {
        try (var scope = Ember.scope()) {
            Tensor p = Tensor.ones(3).requiresGrad_();
            assertEquals(0.0, GradClip.clipGradNorm(List.of(p), 1.0));
        }
    }

    @Test
    void nonFiniteNormFailsWhenAskedAndLeavesGradientsAlone() {
        try (var scope = Ember.scope()) {
            Tensor p = Tensor.ones(3).requiresGrad_();
            p.setGrad(Tensor.fromArray(new double[] {1, Double.POSITIVE_INFINITY, 2}));
            var e = assertThrows(IllegalStateException.class, () -> GradClip.clipGradNorm(List.of(p), 1.0, 2.0, true));
            assertTrue(e.getMessage().startsWith("The total norm of order 2.0 for gradients from `parameters` is non-finite,"
                    + " so it cannot be clipped."), e.getMessage());
            assertArrayEquals(new double[] {1, Double.POSITIVE_INFINITY, 2}, p.grad().toDoubleArray());
            // without the check, PyTorch scales by the infinite norm anyway
            assertEquals(Double.POSITIVE_INFINITY, GradClip.clipGradNorm(List.of(p), 1.0, 2.0, false));
            assertArrayEquals(new double[] {0, Double.NaN, 0}, p.grad().toDoubleArray());
        }
    }

    @Test
    void leavesNothingBehind() {
        try (var scope = Ember.scope()) {
            Tensor p = Tensor.ones(100).requiresGrad_();
            p.setGrad(Tensor.full(DType.FLOAT64, 3, 100));
            GradClip.clipGradNorm(List.of(p), 1.0);
            long before = Ember.liveBytes();
            for (int i = 0; i < 10; i++) GradClip.clipGradNorm(List.of(p), 1.0, Double.POSITIVE_INFINITY);
            assertEquals(before, Ember.liveBytes());
        }
    }
}

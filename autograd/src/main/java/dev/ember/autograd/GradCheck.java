package dev.ember.autograd;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * torch.autograd.gradcheck: compares the Jacobian that backward computes with central finite
 * differences, in float64. Every input must be a float64 leaf; those that require grad are
 * checked. The function may return one tensor of any shape.
 */
public final class GradCheck {
    public static final double EPS = 1e-6;
    public static final double ATOL = 1e-5;
    public static final double RTOL = 1e-3;

    private GradCheck() {}

    /** Returns normally when the gradients match; otherwise throws {@link AssertionError} naming the first mismatch. */
    public static void check(Function<Tensor[], Tensor> f, Tensor... inputs) {
        check(f, EPS, ATOL, RTOL, inputs);
    }

    public static void check(Function<Tensor[], Tensor> f, double eps, double atol, double rtol, Tensor... inputs) {
        for (Tensor in : inputs) {
            if (in.requiresGrad() && in.dtype() != DType.FLOAT64) {
                throw new IllegalArgumentException("gradcheck needs float64 inputs, got " + in.dtype());
            }
        }
        try (var scope = Ember.scope()) {
            double[] out0;
            try (var ng = Ember.noGrad()) {
                out0 = f.apply(inputs).toDoubleArray();
            }
            int outputs = out0.length;
            for (int k = 0; k < inputs.length; k++) {
                Tensor in = inputs[k];
                if (!in.requiresGrad()) continue;
                int n = (int) in.numel();
                double[][] analytic = analyticJacobian(f, inputs, k, outputs, n);
                double[][] numeric = numericJacobian(f, inputs, k, outputs, n, eps);
                for (int o = 0; o < outputs; o++) {
                    for (int i = 0; i < n; i++) {
                        double a = analytic[o][i], b = numeric[o][i];
                        if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
                            throw new AssertionError("Jacobian mismatch for output " + o + " with respect to input " + k
                                    + " element " + i + ": analytical " + a + ", numerical " + b);
                        }
                    }
                }
            }
        }
    }

    /** Row o = gradient of output element o, one backward pass per output element. */
    private static double[][] analyticJacobian(Function<Tensor[], Tensor> f, Tensor[] inputs, int k, int outputs, int n) {
        double[][] jac = new double[outputs][];
        for (int o = 0; o < outputs; o++) {
            try (var scope = Ember.scope()) {
                Tensor out = f.apply(inputs);
                if (!out.requiresGrad()) {
                    jac[o] = new double[n];
                    continue;
                }
                double[] seed = new double[outputs];
                seed[o] = 1;
                // fromArray with an empty shape would make a 1-D tensor: reshape, so 0-d outputs get a 0-d seed
                Tensor gradOut = Tensor.fromArray(seed).reshape(out.shape()).to(out.dtype());
                List<Tensor> grads = Autograd.grad(List.of(out), List.of(inputs[k]), java.util.Collections.singletonList(gradOut),
                        false, false, true);
                Tensor g = grads.get(0);
                if (g != null && (!java.util.Arrays.equals(g.shape(), inputs[k].shape()) || g.dtype() != inputs[k].dtype())) {
                    throw new AssertionError("the gradient of input " + k + " is " + g.dtype() + " "
                            + java.util.Arrays.toString(g.shape()) + "; expected " + inputs[k].dtype() + " "
                            + java.util.Arrays.toString(inputs[k].shape()));
                }
                jac[o] = g == null ? new double[n] : g.toDoubleArray();
                if (g != null) g.close();
            }
        }
        return jac;
    }

    /** Column i = (f(x + eps e_i) - f(x - eps e_i)) / 2 eps. */
    private static double[][] numericJacobian(Function<Tensor[], Tensor> f, Tensor[] inputs, int k, int outputs, int n, double eps) {
        double[][] jac = new double[outputs][n];
        Tensor in = inputs[k];
        long[] shape = in.shape();
        try (var ng = Ember.noGrad()) {
            for (int i = 0; i < n; i++) {
                long[] index = unravel(i, shape);
                double x = in.get(index);
                in.set(x + eps, index);
                double[] plus = evaluate(f, inputs);
                in.set(x - eps, index);
                double[] minus = evaluate(f, inputs);
                in.set(x, index);
                for (int o = 0; o < outputs; o++) jac[o][i] = (plus[o] - minus[o]) / (2 * eps);
            }
        }
        return jac;
    }

    private static double[] evaluate(Function<Tensor[], Tensor> f, Tensor[] inputs) {
        try (var scope = Ember.scope()) {
            return f.apply(inputs).toDoubleArray();
        }
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] index = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    /** Convenience: fresh float64 leaves requiring grad with standard-normal values. */
    public static Tensor[] randomInputs(dev.ember.tensor.Generator g, long[]... shapes) {
        List<Tensor> out = new ArrayList<>();
        for (long[] s : shapes) out.add(dev.ember.tensor.Scope.escape(Tensor.randn(g, s).to(DType.FLOAT64)).requiresGrad_());
        return out.toArray(new Tensor[0]);
    }
}

package dev.ember.nn.optim;

import static dev.ember.nn.optim.Reference.list;
import static dev.ember.nn.optim.Reference.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * Every optimizer run PyTorch recorded in reference.json (SGD plain, with momentum, dampening,
 * Nesterov, weight decay, maximize, per-group options, skipped gradients and a scheduler; Adam
 * default, AMSGrad, weight decay, maximize, skipped gradients; AdamW; float32 runs), repeated in
 * Ember and compared after every step.
 */
@SuppressWarnings("try") // scopes are held for their effect
class OptimizerReferenceTest {
    @TestFactory
    Stream<DynamicTest> matchesPyTorchAfterEveryStep() {
        return Reference.section("optimizers").stream()
                .map(run -> DynamicTest.dynamicTest((String) run.get("name"), () -> replay(run)));
    }

    /**
     * The same runs with parameters and gradients on CUDA, where SGD and Adam/AdamW take the fused
     * kernels (optim.cu). Skipped without a CUDA driver and device.
     */
    @Tag("gpu")
    @TestFactory
    Stream<DynamicTest> fusedCudaStepsMatchPyTorchAfterEveryStep() {
        return Reference.section("optimizers").stream()
                .map(run -> DynamicTest.dynamicTest((String) run.get("name") + " on cuda", () -> {
                    assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
                    replay(run, Device.cuda());
                }));
    }

    private static void replay(Map<String, Object> run) { replay(run, Device.cpu()); }

    private static void replay(Map<String, Object> run, Device device) {
        DType dtype = Reference.dtype(run);
        double tol = Reference.tolerance(dtype);
        Set<List<Integer>> skip = skipped(run);
        List<Object> steps = list(run.get("steps"));
        try (var scope = Ember.scope()) {
            List<Tensor> params = Reference.initialParams(dtype, device);
            try (Optimizer opt = newOptimizer(run, params)) {
                LRScheduler schedule = run.containsKey("scheduler") ? newScheduler(map(run.get("scheduler")), opt) : null;
                for (int k = 0; k < steps.size(); k++) {
                    for (int i = 0; i < params.size(); i++) {
                        Tensor p = params.get(i);
                        p.setGrad(skip.contains(List.of(k, i)) ? null
                                : Reference.tensor(Reference.grad(k, i), p.shape(), dtype).to(device));
                    }
                    opt.step();
                    if (schedule != null) schedule.step();
                    List<Object> expected = list(steps.get(k));
                    for (int i = 0; i < params.size(); i++) {
                        assertEquals(dtype, params.get(i).dtype());
                        assertEquals(device, params.get(i).device());
                        Reference.assertClose(Reference.doubles(expected.get(i)), params.get(i), tol,
                                run.get("name") + " step " + (k + 1) + " param " + i);
                    }
                }
            }
        }
    }

    private static Set<List<Integer>> skipped(Map<String, Object> run) {
        Set<List<Integer>> out = new HashSet<>();
        if (run.containsKey("skip")) {
            for (Object pair : list(run.get("skip"))) {
                double[] kv = Reference.doubles(pair);
                out.add(List.of((int) kv[0], (int) kv[1]));
            }
        }
        return out;
    }

    /** The optimizer a reference run describes, over {@code params} (one group per parameter when the run has groups). */
    static Optimizer newOptimizer(Map<String, Object> run, List<Tensor> params) {
        Map<String, Object> o = map(run.get("options"));
        String kind = (String) run.get("optimizer");
        List<ParamGroup> groups = new ArrayList<>();
        if (run.containsKey("groups")) {
            List<Object> specs = list(run.get("groups"));
            for (int i = 0; i < params.size(); i++) groups.add(group(List.of(params.get(i)), map(specs.get(i))));
        } else {
            groups.add(ParamGroup.of(params));
        }
        if (kind.equals("SGD")) {
            SGD.Options opts = SGD.options(num(o, "lr", 0))
                    .momentum(num(o, "momentum", 0))
                    .dampening(num(o, "dampening", 0))
                    .weightDecay(num(o, "weight_decay", 0))
                    .nesterov(flag(o, "nesterov"))
                    .maximize(flag(o, "maximize"));
            return new SGD(groups, opts);
        }
        Adam.Options opts = kind.equals("AdamW") ? AdamW.options() : Adam.options();
        if (o.containsKey("lr")) opts.lr(num(o, "lr", 0));
        if (o.containsKey("betas")) {
            double[] b = Reference.doubles(o.get("betas"));
            opts.betas(b[0], b[1]);
        }
        if (o.containsKey("eps")) opts.eps(num(o, "eps", 0));
        if (o.containsKey("weight_decay")) opts.weightDecay(num(o, "weight_decay", 0));
        opts.amsgrad(flag(o, "amsgrad")).maximize(flag(o, "maximize"));
        return kind.equals("AdamW") ? new AdamW(groups, opts) : new Adam(groups, opts);
    }

    static LRScheduler newScheduler(Map<String, Object> spec, Optimizer opt) {
        return switch ((String) spec.get("kind")) {
            case "StepLR" -> new StepLR(opt, (long) num(spec, "step_size", 0), num(spec, "gamma", 0));
            case "CosineAnnealingLR" -> new CosineAnnealingLR(opt, (long) num(spec, "T_max", 0), num(spec, "eta_min", 0));
            default -> throw new IllegalArgumentException("unknown scheduler " + spec.get("kind"));
        };
    }

    private static ParamGroup group(List<Tensor> params, Map<String, Object> options) {
        ParamGroup g = ParamGroup.of(params);
        options.forEach((name, value) -> {
            if (value instanceof Boolean b) g.set(name, b);
            else g.set(name, (Double) value);
        });
        return g;
    }

    private static double num(Map<String, Object> m, String key, double otherwise) {
        return m.containsKey(key) ? (Double) m.get(key) : otherwise;
    }

    private static boolean flag(Map<String, Object> m, String key) {
        return Boolean.TRUE.equals(m.get(key));
    }
}

package dev.ember.nn.optim;

import static dev.ember.nn.optim.Reference.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.nn.io.Safetensors;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The flat state dict: its keys and dtypes, that training resumed from it (in memory or through
 * a safetensors file) continues exactly as uninterrupted training does, and that a state dict
 * that does not fit is refused with every problem listed and nothing changed.
 */
@SuppressWarnings("try") // scopes are held for their effect
class StateDictTest {
    private static final int SPLIT = 2;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"sgd_nesterov", "sgd_groups", "sgd_steplr", "adam_amsgrad", "adam_skip", "adamw_amsgrad", "adam_float32"})
    void resumingInMemoryContinuesExactly(String name) {
        resume(name, UnaryOperator.identity());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd_maximize", "adamw_cosine"})
    void resumingThroughASafetensorsFileContinuesExactly(String name) {
        resume(name, saved -> {
            try {
                Path file = dir.resolve(name + ".safetensors");
                Safetensors.save(saved, file);
                return Safetensors.load(file);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /**
     * Runs the reference run uninterrupted, and again stopping after {@link #SPLIT} steps: the
     * state dict (passed through {@code transport}) is loaded into a fresh optimizer, made with
     * other hyperparameters, over fresh parameters that copy the stopped ones, which then takes
     * the remaining steps. Both must give the same bits, and PyTorch's numbers.
     */
    private static void resume(String name, UnaryOperator<Map<String, Tensor>> transport) {
        Map<String, Object> run = Reference.find("optimizers", name);
        DType dtype = Reference.dtype(run);
        try (var scope = Ember.scope()) {
            List<Tensor> straight = Reference.initialParams(dtype);
            List<Tensor> stopped = Reference.initialParams(dtype);
            List<Tensor> resumed = new ArrayList<>();
            try (Optimizer a = OptimizerReferenceTest.newOptimizer(run, straight);
                 Optimizer first = OptimizerReferenceTest.newOptimizer(run, stopped)) {
                LRScheduler scheduleA = scheduler(run, a), scheduleFirst = scheduler(run, first);
                for (int k = 0; k < SPLIT; k++) {
                    step(run, a, scheduleA, straight, k);
                    step(run, first, scheduleFirst, stopped, k);
                }
                Map<String, Tensor> saved = transport.apply(first.stateDict());
                Map<String, Tensor> savedSchedule = scheduleFirst == null ? null : transport.apply(scheduleFirst.stateDict());
                for (Tensor p : stopped) resumed.add(p.detach().clone().requiresGrad_());

                try (Optimizer second = withOtherOptions(run, resumed)) {
                    LRScheduler scheduleSecond = scheduler(run, second);
                    second.loadStateDict(saved);
                    if (scheduleSecond != null) scheduleSecond.loadStateDict(savedSchedule);
                    for (int k = SPLIT; k < Reference.numSteps(); k++) {
                        step(run, a, scheduleA, straight, k);
                        step(run, second, scheduleSecond, resumed, k);
                        List<Object> expected = list(list(run.get("steps")).get(k));
                        for (int i = 0; i < resumed.size(); i++) {
                            String what = name + " step " + (k + 1) + " param " + i;
                            assertArrayEquals(straight.get(i).toDoubleArray(), resumed.get(i).toDoubleArray(), what);
                            Reference.assertClose(Reference.doubles(expected.get(i)), resumed.get(i), Reference.tolerance(dtype), what);
                        }
                    }
                }
            }
        }
    }

    /** The run's optimizer class and group structure, with hyperparameters other than the run's. */
    private static Optimizer withOtherOptions(Map<String, Object> run, List<Tensor> params) {
        List<ParamGroup> groups = new ArrayList<>();
        if (run.containsKey("groups")) {
            for (Tensor p : params) groups.add(ParamGroup.of(List.of(p)));
        } else {
            groups.add(ParamGroup.of(params));
        }
        return switch ((String) run.get("optimizer")) {
            case "SGD" -> new SGD(groups, SGD.options(123.0).momentum(0.5));
            case "Adam" -> new Adam(groups, Adam.options().lr(123.0).amsgrad(true));
            default -> new AdamW(groups, AdamW.options().lr(123.0).betas(0.5, 0.5));
        };
    }

    private static LRScheduler scheduler(Map<String, Object> run, Optimizer opt) {
        return run.containsKey("scheduler") ? OptimizerReferenceTest.newScheduler(Reference.map(run.get("scheduler")), opt) : null;
    }

    private static void step(Map<String, Object> run, Optimizer opt, LRScheduler schedule, List<Tensor> params, int k) {
        List<Object> skip = run.containsKey("skip") ? list(run.get("skip")) : List.of();
        for (int i = 0; i < params.size(); i++) {
            boolean skipped = skip.contains(List.of((double) k, (double) i));
            Tensor p = params.get(i);
            p.setGrad(skipped ? null : Reference.tensor(Reference.grad(k, i), p.shape(), p.dtype()));
        }
        opt.step();
        if (schedule != null) schedule.step();
    }
    @Test
    void keysAndDtypesFollowTheDocumentedLayout() {
        try (var scope = Ember.scope()) {
            List<Tensor> params = Reference.initialParams(DType.FLOAT32);
            try (var opt = new Adam(List.of(ParamGroup.of(List.of(params.get(0))), ParamGroup.of(List.of(params.get(1)))),
                    Adam.options().amsgrad(true))) {
                params.get(1).setGrad(Tensor.onesLike(params.get(1)));
                opt.step();
                opt.step();
                Map<String, Tensor> sd = opt.stateDict();
                assertEquals(List.of("state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq",
                        "param_groups.0.lr", "param_groups.0.betas", "param_groups.0.eps", "param_groups.0.weight_decay",
                        "param_groups.0.amsgrad", "param_groups.0.maximize", "param_groups.0.params",
                        "param_groups.1.lr", "param_groups.1.betas", "param_groups.1.eps", "param_groups.1.weight_decay",
                        "param_groups.1.amsgrad", "param_groups.1.maximize", "param_groups.1.params"), List.copyOf(sd.keySet()));
                assertScalar(sd.get("state.1.step"), DType.FLOAT64, 2.0);
                assertEquals(DType.FLOAT32, sd.get("state.1.exp_avg").dtype());
                assertArrayEquals(new long[] {4}, sd.get("state.1.exp_avg").shape());
                assertScalar(sd.get("param_groups.0.lr"), DType.FLOAT64, 1e-3);
                assertScalar(sd.get("param_groups.1.amsgrad"), DType.BOOL, 1.0);
                assertArrayEquals(new double[] {0.9, 0.999}, sd.get("param_groups.0.betas").toDoubleArray());
                assertEquals(DType.INT64, sd.get("param_groups.1.params").dtype());
                assertArrayEquals(new long[] {1}, sd.get("param_groups.1.params").toLongArray());
            }
        }
    }

    @Test
    void stateDictIsASnapshotTheCallerOwns() {
        try (var scope = Ember.scope()) {
            Tensor p = Tensor.zeros(DType.FLOAT64, 3).requiresGrad_();
            try (var opt = new SGD(List.of(p), SGD.options(0.1).momentum(0.9))) {
                p.setGrad(Tensor.ones(DType.FLOAT64, 3));
                opt.step();
                Map<String, Tensor> sd;
                try (var inner = Ember.scope()) {
                    sd = opt.stateDict();
                    opt.step(); // moves the live buffer to 1.9, not the copy
                    assertArrayEquals(new double[] {1, 1, 1}, sd.get("state.0.momentum_buffer").toDoubleArray());
                    assertArrayEquals(new double[] {1.9, 1.9, 1.9}, opt.state(p).buffer("momentum_buffer").toDoubleArray());
                }
                // the scope closed the copies, and nothing of the optimizer's
                assertTrue(sd.values().stream().allMatch(Tensor::isClosed));
                assertTrue(!opt.state(p).buffer("momentum_buffer").isClosed());
            }
        }
    }

    @Test
    void loadingConvertsBuffersToTheParametersDtype() {
        try (var scope = Ember.scope()) {
            Tensor p64 = Tensor.zeros(DType.FLOAT64, 3).requiresGrad_();
            Tensor p32 = Tensor.zeros(DType.FLOAT32, 3).requiresGrad_();
            try (var a = new SGD(List.of(p64), SGD.options(0.1).momentum(0.9)); var b = new SGD(List.of(p32), SGD.options(0.1).momentum(0.9))) {
                p64.setGrad(Tensor.full(DType.FLOAT64, 0.5, 3));
                a.step();
                b.loadStateDict(a.stateDict());
                Tensor buf = b.state(p32).buffer("momentum_buffer");
                assertEquals(DType.FLOAT32, buf.dtype());
                assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, buf.toFloatArray());
            }
        }
    }

    @Test
    void structuralMismatchesFailAsPyTorchSays() {
        try (var scope = Ember.scope()) {
            List<Tensor> params = Reference.initialParams(DType.FLOAT64);
            try (var one = new SGD(params, 0.1);
                 var two = new SGD(List.of(ParamGroup.of(List.of(params.get(0))), ParamGroup.of(List.of(params.get(1)))), SGD.options(0.1));
                 var small = new SGD(List.of(params.get(0)), 0.1)) {
                assertMessage("loaded state dict has a different number of parameter groups", () -> one.loadStateDict(two.stateDict()));
                assertMessage("loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
                        () -> small.loadStateDict(one.stateDict()));
            }
        }
    }

    @Test
    void badStateDictsListEveryProblemAndChangeNothing() {
        try (var scope = Ember.scope()) {
            List<Tensor> params = Reference.initialParams(DType.FLOAT64);
            try (var opt = new Adam(params, Adam.options().lr(0.01))) {
                Reference.setGrads(params, 0);
                opt.step();
                Map<String, Tensor> good = opt.stateDict();
                double[] before = opt.state(params.get(0)).buffer("exp_avg").toDoubleArray();

                Map<String, Tensor> bad = new LinkedHashMap<>(good);
                bad.remove("state.0.exp_avg_sq");
                bad.put("state.1.exp_avg", Tensor.zeros(DType.FLOAT64, 5));
                bad.put("state.0.momentum_buffer", Tensor.zeros(DType.FLOAT64, 3, 4));
                bad.put("state.7.exp_avg", Tensor.zeros(DType.FLOAT64, 4));
                bad.put("epoch", Tensor.zeros(DType.FLOAT64));
                bad.put("param_groups.0.lr", Tensor.scalar(DType.FLOAT64, 0.5));
                assertMessage("Error(s) in loading state_dict for Adam:"
                        + "\n\tMissing key(s) in state_dict: \"state.0.exp_avg_sq\"."
                        + "\n\tUnexpected key(s) in state_dict: \"epoch\", \"state.0.momentum_buffer\", \"state.7.exp_avg\"."
                        + "\n\tsize mismatch for state.1.exp_avg: copying a param with shape [5] from checkpoint,"
                        + " the shape in current model is [4].", () -> opt.loadStateDict(bad));

                Map<String, Tensor> badLr = new LinkedHashMap<>(good);
                badLr.put("param_groups.0.lr", Tensor.scalar(DType.FLOAT64, -1.0));
                assertMessage("Invalid learning rate: -1.0", () -> opt.loadStateDict(badLr));

                Map<String, Tensor> unknownOption = new LinkedHashMap<>(good);
                unknownOption.put("param_groups.0.momentum", Tensor.scalar(DType.FLOAT64, 0.9));
                assertMessage("Adam has no option 'momentum' (its options: lr, betas, eps, weight_decay, amsgrad, maximize)",
                        () -> opt.loadStateDict(unknownOption));

                assertEquals(0.01, opt.paramGroups().get(0).lr());
                assertEquals(1, opt.state(params.get(0)).step());
                assertArrayEquals(before, opt.state(params.get(0)).buffer("exp_avg").toDoubleArray());
            }
        }
    }

    private static void assertScalar(Tensor t, DType dtype, double value) {
        assertEquals(0, t.dim());
        assertEquals(dtype, t.dtype());
        assertEquals(value, t.item());
    }

    private static void assertMessage(String message, org.junit.jupiter.api.function.Executable load) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, load).getMessage());
    }
}

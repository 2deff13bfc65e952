package dev.ember.nn.optim;

import static dev.ember.nn.optim.Reference.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** StepLR and CosineAnnealingLR lr sequences against PyTorch's, over two groups with different lrs. */
@SuppressWarnings("try") // scopes are held for their effect
class SchedulerReferenceTest {
    @TestFactory
    Stream<DynamicTest> lrSequencesMatchPyTorch() {
        return Reference.section("schedulers").stream()
                .map(spec -> DynamicTest.dynamicTest((String) spec.get("name"), () -> replay(spec)));
    }

    private static void replay(Map<String, Object> spec) {
        double[] groupLrs = Reference.doubles(spec.get("group_lrs"));
        List<Object> lrs = list(spec.get("lrs"));
        try (var scope = Ember.scope(); Optimizer opt = new SGD(groups(groupLrs), SGD.options(groupLrs[0]))) {
            LRScheduler schedule = OptimizerReferenceTest.newScheduler(spec, opt);
            check(spec, lrs, 0, schedule, opt);
            for (int k = 1; k < lrs.size(); k++) {
                opt.step();
                schedule.step();
                check(spec, lrs, k, schedule, opt);
            }
        }
    }

    private static void check(Map<String, Object> spec, List<Object> lrs, int k, LRScheduler schedule, Optimizer opt) {
        double[] expected = Reference.doubles(lrs.get(k));
        List<Double> last = schedule.getLastLr();
        assertEquals(expected.length, last.size());
        for (int g = 0; g < expected.length; g++) {
            String what = spec.get("name") + " epoch " + k + " group " + g;
            Reference.assertClose(expected[g], last.get(g), Reference.FLOAT64_TOLERANCE, what);
            assertEquals(last.get(g), opt.paramGroups().get(g).lr(), what + ": the group's lr");
        }
    }

    private static List<ParamGroup> groups(double[] lrs) {
        List<ParamGroup> groups = new ArrayList<>();
        for (double lr : lrs) groups.add(ParamGroup.of(List.of(Tensor.zeros(1).requiresGrad_())).set("lr", lr));
        return groups;
    }

    @Test
    void recordsInitialLrAndKeepsOneAlreadyThere() {
        try (var scope = Ember.scope(); Optimizer opt = new SGD(List.of(Tensor.zeros(2).requiresGrad_()), 0.1)) {
            new StepLR(opt, 1, 0.5);
            assertEquals(0.1, opt.paramGroups().get(0).getDouble("initial_lr"));
            opt.paramGroups().get(0).setLr(0.05);
            var second = new StepLR(opt, 1, 0.5);
            assertEquals(List.of(0.05), second.getLastLr());
            second.step();
            // the recursive form halves the current lr, while initial_lr stays the first scheduler's
            assertEquals(0.025, opt.paramGroups().get(0).lr());
            assertEquals(0.1, opt.paramGroups().get(0).getDouble("initial_lr"));
        }
    }

    @Test
    void stateDictRestoresProgress() {
        try (var scope = Ember.scope()) {
            Optimizer a = new SGD(List.of(Tensor.zeros(2).requiresGrad_()), 1.0);
            var cosA = new CosineAnnealingLR(a, 5, 0.01);
            for (int i = 0; i < 3; i++) cosA.step();
            Map<String, Tensor> saved = cosA.stateDict();
            Map<String, Tensor> savedOpt = a.stateDict();

            Optimizer b = new SGD(List.of(Tensor.zeros(2).requiresGrad_()), 1.0);
            var cosB = new CosineAnnealingLR(b, 5, 0.01);
            b.loadStateDict(savedOpt);
            cosB.loadStateDict(saved);
            assertEquals(3, cosB.lastEpoch());
            assertEquals(cosA.getLastLr(), cosB.getLastLr());
            for (int i = 0; i < 4; i++) {
                cosA.step();
                cosB.step();
                assertEquals(cosA.getLastLr(), cosB.getLastLr());
            }
        }
    }

    @Test
    void rejectsNonPositivePeriods() {
        try (var scope = Ember.scope(); Optimizer opt = new SGD(List.of(Tensor.zeros(2).requiresGrad_()), 0.1)) {
            assertEquals("step_size must be positive, got 0",
                    assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 0, 0.5)).getMessage());
            assertEquals("T_max must be positive, got -1",
                    assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, -1, 0)).getMessage());
            // nothing was touched by the refused schedulers
            assertEquals(false, opt.paramGroups().get(0).has("initial_lr"));
        }
    }
}

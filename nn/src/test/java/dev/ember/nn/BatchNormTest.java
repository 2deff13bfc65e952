package dev.ember.nn;

import static dev.ember.nn.NnTesting.assertValues;
import static dev.ember.nn.NnTesting.leaf;
import static dev.ember.nn.NnTesting.wave;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ember.autograd.GradCheck;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** BatchNorm's train/eval behaviour and running statistics against PyTorch 1.13 on the same inputs. */
class BatchNormTest {
    private Scope scope;

    @BeforeEach
    void open() { scope = Ember.scope(); }

    @AfterEach
    void close() { scope.close(); }

    private static BatchNorm2d bn2d() {
        BatchNorm2d bn = new BatchNorm2d(2);
        bn.to(DType.FLOAT64);
        bn.loadStateDict(Map.of("weight", Tensor.fromArray(new double[] {1.5, -0.5}), "bias", Tensor.fromArray(new double[] {0.25, 1.0})),
                false);
        return bn;
    }

    @Test
    void batchNorm2dTrainsOnBatchStatisticsAndEvaluatesOnRunningOnes() {
        try (BatchNorm2d bn = bn2d()) {
            Tensor x = wave(0.53, 0.2, 2.0, 3, 2, 2, 2);
            assertValues(new double[] {0.7204250700105834, 1.7201745109761213, 2.329207096813358, 2.380412898316332,
                    0.4941725942256956, 0.8108940144872178, 1.1837880297333523, 1.5105377952858383, -1.760370331820396,
                    -1.7686349140078363, -1.2103363804650547, -0.23866395388014722, 0.8209955640793071, 0.5013965674832978,
                    0.32289188871724184, 0.3344606873946124, 1.7435324614941836, 0.7513040371020111, -0.3657968852133839,
                    -1.3012536093257723, 1.7141674503127073, 1.6882906602711925, 1.4778412329030384, 1.1405635151065},
                    new long[] {3, 2, 2, 2}, bn.apply(x), 1e-12);
            assertValues(new double[] {-0.004327806068302685, 0.004385499627944104}, new long[] {2}, bn.runningMean(), 1e-12);
            assertValues(new double[] {1.1153326639803942, 1.115114706095195}, new long[] {2}, bn.runningVar(), 1e-12);
            bn.apply(x.mul(0.5).add(1.0));
            assertValues(new double[] {0.09394107150437625, 0.10613969947912176}, new long[] {2}, bn.runningMean(), 1e-12);
            assertValues(new double[] {1.0576325635774535, 1.057381912009474}, new long[] {2}, bn.runningVar(), 1e-12);
            assertEquals(2, bn.numBatchesTracked().itemLong());

            bn.eval();
            assertValues(new double[] {0.6925210414388625, 2.058309650121236, 2.8903278878604066, 2.9602817158152086,
                    0.33952691086161396, 0.7720420521785567, 1.2812665547942959, 1.7274764161497977, -2.6965702262892464,
                    -2.7078607274334368, -1.9451518464758428, -0.6177201148624293, 0.7858367400962067, 0.349391977176995,
                    0.10562577942982065, 0.12142414441150885, 2.0902196682042926, 0.7347057527007353, -0.7914003414156326,
                    -2.069356682630602, 2.0055533108149683, 1.9702159361202185, 1.6828259523829394, 1.2222391071503937},
                    new long[] {3, 2, 2, 2}, bn.apply(x), 1e-12);
            assertEquals(2, bn.numBatchesTracked().itemLong(), "eval mode leaves the statistics alone");
            assertValues(new double[] {0.09394107150437625, 0.10613969947912176}, new long[] {2}, bn.runningMean(), 1e-12);
        }
    }

    @Test
    void batchNorm1dWithMomentumOn3dInput() {
        try (BatchNorm1d bn = new BatchNorm1d(3, 1e-5, 0.3, true, true)) {
            bn.to(DType.FLOAT64);
            assertValues(new double[] {0.5880270580652607, 0.8938683012409809, 1.1339188984674107, 1.2881316845024737,
                    1.1440099198741078, 1.095435106182423, 0.9460107329107939, 0.7082155655227546, 0.7213206685334212,
                    -0.07380436661059525, -0.9002706857845869, -1.6890582279725697, -0.7269891276056412, -0.9539293481400012,
                    -1.0923464772738556, -1.1306809892566283, -1.3016017417614578, -1.136342600845276, -0.885552243983767,
                    -0.5701747378995795, -0.6867423493259561, 0.13821963062966425, 0.9141337257091896, 1.576201604821433},
                    new long[] {2, 3, 4}, bn.apply(wave(0.29, 0.4, 3.0, 2, 3, 4)), 1e-12);
            assertValues(new double[] {-0.07713523789237871, 0.08035837534093702, 0.1413157894773837}, new long[] {3},
                    bn.runningMean(), 1e-12);
            assertValues(new double[] {2.714533920582735, 2.655252163906001, 1.0772016241926092}, new long[] {3},
                    bn.runningVar(), 1e-12);
        }
    }

    @Test
    void withoutRunningStatisticsEvalStillUsesTheBatch() {
        try (BatchNorm1d bn = new BatchNorm1d(3, 1e-5, 0.1, false, false)) {
            assertEquals(List.of(), List.copyOf(bn.stateDict().keySet()));
            assertNull(bn.runningMean());
            Tensor x = Tensor.randn(6, 3);
            double[] training = bn.apply(x).toDoubleArray();
            bn.eval();
            assertArrayEquals(training, bn.apply(x).toDoubleArray(), 1e-6);
        }
    }

    @Test
    void stateDictOrderAndInitialValues() {
        try (BatchNorm1d bn = new BatchNorm1d(3)) {
            assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
                    List.copyOf(bn.stateDict().keySet()));
            assertArrayEquals(new float[] {1, 1, 1}, bn.weight().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0}, bn.bias().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0}, bn.runningMean().toFloatArray());
            assertArrayEquals(new float[] {1, 1, 1}, bn.runningVar().toFloatArray());
            assertEquals(DType.INT64, bn.numBatchesTracked().dtype());
            assertEquals(0, bn.numBatchesTracked().dim());
            bn.apply(Tensor.randn(4, 3));
            bn.resetRunningStats();
            assertArrayEquals(new float[] {0, 0, 0}, bn.runningMean().toFloatArray());
            assertEquals(0, bn.numBatchesTracked().itemLong());
        }
    }

    @Test
    void gradchecksInTrainingAndEvalMode() {
        try (BatchNorm2d bn = bn2d()) {
            Tensor x = leaf(wave(0.53, 0.2, 2.0, 3, 2, 2, 2));
            GradCheck.check(in -> bn.apply(in[0]), x, bn.weight(), bn.bias());
            bn.eval();
            GradCheck.check(in -> bn.apply(in[0]), x, bn.weight(), bn.bias());
        }
        try (BatchNorm1d bn = new BatchNorm1d(3)) {
            bn.to(DType.FLOAT64);
            GradCheck.check(in -> bn.apply(in[0]), leaf(wave(0.29, 0.4, 3.0, 4, 3)), bn.weight(), bn.bias());
        }
    }
}

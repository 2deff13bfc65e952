package dev.ember.nn;

import static dev.ember.nn.NnTesting.assertValues;
import static dev.ember.nn.NnTesting.leaf;
import static dev.ember.nn.NnTesting.wave;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.autograd.GradCheck;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Loss values against PyTorch 1.13 on the same inputs, gradchecks, and the stability of BCEWithLogits. */
class LossTest {
    private static final long[] SCALAR = {};

    private Scope scope;

    @BeforeEach
    void open() { scope = Ember.scope(); }

    @AfterEach
    void close() { scope.close(); }

    private static Tensor logits() { return wave(0.71, 0.3, 2.0, 4, 5); }

    /** One target is ignore_index (-100). */
    private static Tensor targets() { return Tensor.fromArray(new long[] {1, 4, -100, 0}); }

    private static Tensor classWeights() { return Tensor.fromArray(new double[] {0.5, 1.0, 2.0, 1.5, 0.25}); }

    private static double value(Tensor t) { return t.item(); }

    @Test
    void crossEntropyMatchesPyTorchForEveryReduction() {
        assertEquals(2.0008159453505105, value(new CrossEntropyLoss().apply(logits(), targets())), 1e-12);
        assertEquals(6.002447836051532, value(Functional.crossEntropy(logits(), targets(), null, -100, "sum", 0)), 1e-12);
        assertValues(new double[] {1.259515254980007, 0.4178087702617235, 0.0, 4.325123810809801}, new long[] {4},
                Functional.crossEntropy(logits(), targets(), null, -100, "none", 0), 1e-12);
        // an ignored target's loss is +0.0, as PyTorch's (JUnit tells -0.0 apart)
        assertEquals(0.0, Functional.crossEntropy(logits(), targets(), null, -100, "none", 0).get(2));
    }

    @Test
    void crossEntropyWithLabelSmoothingMatchesPyTorch() {
        assertEquals(2.037402644026165, value(new CrossEntropyLoss(null, -100, "mean", 0.2).apply(logits(), targets())), 1e-12);
        assertEquals(6.112207932078495, value(Functional.crossEntropy(logits(), targets(), null, -100, "sum", 0.2)), 1e-12);
        assertValues(new double[] {1.3753779750853885, 0.767317875364717, 0.0, 3.9695120816283893}, new long[] {4},
                Functional.crossEntropy(logits(), targets(), null, -100, "none", 0.2), 1e-12);
    }

    @Test
    void crossEntropyWithClassWeightsAndSmoothingMatchesPyTorch() {
        assertEquals(2.205582625503807, value(new CrossEntropyLoss(classWeights(), -100, "mean", 0.1).apply(logits(), targets())),
                1e-12);
        assertEquals(3.859769594631662, value(Functional.crossEntropy(logits(), targets(), classWeights(), -100, "sum", 0.1)),
                1e-12);
        assertValues(new double[] {1.285554287802866, 0.3553584862336154, 0.0, 2.218856820595181}, new long[] {4},
                Functional.crossEntropy(logits(), targets(), classWeights(), -100, "none", 0.1), 1e-12);
    }

    @Test
    void crossEntropyOverSpatialDimsMatchesPyTorch() {
        Tensor x = wave(0.47, 0.9, 2.0, 2, 3, 2, 2);
        Tensor t = Tensor.fromArray(new long[] {0, 2, 1, -100, 2, 2, 0, 1}, 2, 2, 2);
        assertEquals(2.4604497604610236, value(Functional.crossEntropy(x, t, null, -100, "mean", 0.15)), 1e-12);
        assertValues(new double[] {0.37284570460471966, 3.9155502316551716, 3.107421919213162, 0.0, 3.5213894122130776,
                3.8500698930163604, 0.1816522513985191, 2.867455950114882}, new long[] {2, 2, 2},
                Functional.crossEntropy(x, t, null, -100, "none", 0), 1e-12);
    }

    @Test
    void crossEntropyWithProbabilitiesAndUnbatchedInputMatchesPyTorch() {
        Tensor p = wave(0.33, 0.8, 4, 5).softmax(1);
        assertEquals(2.1178371582944413, value(Functional.crossEntropy(logits(), p, null, -100, "mean", 0.1)), 1e-12);
        assertEquals(2.1284093050694968, value(Functional.crossEntropy(logits(), p, classWeights(), -100, "mean", 0)), 1e-12);
        Tensor unbatched = Functional.crossEntropy(logits().select(0, 0), Tensor.fromArray(new long[] {3}).squeeze(), null, -100,
                "none", 0);
        assertValues(new double[] {1.6470974410715071}, SCALAR, unbatched, 1e-12);
    }

    @Test
    void nllLossMatchesPyTorch() {
        Tensor logProbs = logits().logSoftmax(1);
        assertEquals(2.0151596302573362, value(new NLLLoss(classWeights(), -100, "mean").apply(logProbs, targets())), 1e-12);
        assertEquals(3.5265293529503383, value(Functional.nllLoss(logProbs, targets(), classWeights(), -100, "sum")), 1e-12);
        assertValues(new double[] {1.259515254980007, 0.10445219256543088, 0.0, 2.1625619054049006}, new long[] {4},
                Functional.nllLoss(logProbs, targets(), classWeights(), -100, "none"), 1e-12);
        assertEquals(2.0008159453505105, value(Functional.nllLoss(logProbs, targets())), 1e-12);
    }

    @Test
    void everyTargetIgnoredGivesNaNMeanAsPyTorch() {
        Tensor t = Tensor.fromArray(new long[] {-100, -100, -100, -100});
        assertTrue(Double.isNaN(value(Functional.crossEntropy(logits(), t))));
        assertEquals(0.0, value(Functional.crossEntropy(logits(), t, null, -100, "sum", 0)));
    }

    @Test
    void classificationLossGradchecks() {
        Tensor x = leaf(logits());
        Tensor w = leaf(classWeights());
        for (String reduction : new String[] {"mean", "sum", "none"}) {
            GradCheck.check(in -> Functional.crossEntropy(in[0], targets(), in[1], -100, reduction, 0.2), x, w);
            Tensor withFour = Tensor.fromArray(new long[] {1, 4, 2, 0});
            GradCheck.check(in -> Functional.crossEntropy(in[0], withFour, null, 4, reduction, 0.3), x);
            GradCheck.check(in -> Functional.nllLoss(in[0], targets(), in[1], -100, reduction), x, w);
        }
        Tensor x3 = leaf(wave(0.47, 0.9, 2.0, 2, 3, 2, 2));
        Tensor t3 = Tensor.fromArray(new long[] {0, 2, 1, -100, 2, 2, 0, 1}, 2, 2, 2);
        GradCheck.check(in -> Functional.crossEntropy(in[0], t3, null, -100, "mean", 0.15), x3);
        Tensor p = leaf(wave(0.33, 0.8, 4, 5).softmax(1));
        GradCheck.check(in -> Functional.crossEntropy(in[0], in[1], in[2], -100, "mean", 0.1), x, p, w);
    }

    @Test
    void bceWithLogitsMatchesPyTorch() {
        Tensor x = wave(0.57, 0.2, 4.0, 3, 4);
        Tensor y = wave(0.8, 0.1, 3, 4).add(1.0).div(2.0);
        assertEquals(1.0829852058862153, value(new BCEWithLogitsLoss().apply(x, y)), 1e-12);
        Tensor posWeight = Tensor.fromArray(new double[] {0.5, 1.0, 2.0, 3.0});
        assertValues(new double[] {0.6279330603087458, 0.36159303688850125, 0.05646512374297947, 0.8163960605289584,
                1.4874526253002331, 0.8594730978162808, 0.18080391507516236, 2.3808988776630096, 1.2264362559046855,
                3.054820358455545, 3.347407641115629, 1.1586178691981384}, new long[] {3, 4},
                new BCEWithLogitsLoss(posWeight, "none").apply(x, y), 1e-12);
        GradCheck.check(in -> Functional.binaryCrossEntropyWithLogits(in[0], in[1], in[2], "mean"), leaf(x), leaf(y),
                leaf(Tensor.fromArray(new double[] {0.5, 1.0, 2.0, 3.0})));
    }

    @Test
    void bceWithLogitsIsStableForExtremeLogits() {
        Tensor x = leaf(Tensor.fromArray(new double[] {-100, -30, 0, 30, 100}));
        Tensor y = Tensor.fromArray(new double[] {1, 0, 0.5, 1, 0});
        Tensor loss = Functional.binaryCrossEntropyWithLogits(x, y, null, "sum");
        assertEquals(200.69314718056012, loss.item(), 1e-12);
        loss.backward();
        assertArrayEquals(new double[] {-1.0, 9.357622968839299e-14, 0.0, -9.348077867343818e-14, 1.0}, x.grad().toDoubleArray(),
                1e-15);
        GradCheck.check(in -> Functional.binaryCrossEntropyWithLogits(in[0], y, null, "none"), x);
        // float32 too: no overflow to inf or NaN at +-100
        Tensor x32 = Tensor.fromArray(new float[] {-100, 100}).requiresGrad_();
        Tensor l32 = Functional.binaryCrossEntropyWithLogits(x32, Tensor.fromArray(new float[] {1, 0}));
        assertEquals(100, l32.item(), 1e-4);
        l32.backward();
        assertArrayEquals(new float[] {-0.5f, 0.5f}, x32.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void regressionLossesMatchPyTorch() {
        Tensor x = wave(0.57, 0.2, 4.0, 3, 4);
        Tensor y = wave(0.8, 0.1, 3, 4).add(1.0).div(2.0);
        assertEquals(7.251312493271353, value(new MSELoss().apply(x, y)), 1e-12);
        assertEquals(27.138712348595053, value(new L1Loss("sum").apply(x, y)), 1e-12);
        assertArrayEquals(new long[] {3, 4}, new MSELoss("none").apply(x, y).shape());
        for (String reduction : new String[] {"mean", "sum", "none"}) {
            GradCheck.check(in -> Functional.mseLoss(in[0], in[1], reduction), leaf(x), leaf(y));
            GradCheck.check(in -> Functional.l1Loss(in[0], in[1], reduction), leaf(x), leaf(y));
        }
    }

    @Test
    void lossesWorkOnFloat32() {
        Tensor x = logits().to(DType.FLOAT32);
        assertEquals(DType.FLOAT32, new CrossEntropyLoss(null, -100, "mean", 0.1).apply(x, targets()).dtype());
        assertEquals(2.0008159453505105, new CrossEntropyLoss().apply(x, targets()).item(), 1e-5);
    }

    @Test
    void lossModulesPrintLikePyTorchAndNeedATarget() {
        assertEquals("CrossEntropyLoss()", new CrossEntropyLoss().toString());
        assertEquals("BCEWithLogitsLoss()", new BCEWithLogitsLoss().toString());
        assertEquals("mean", new MSELoss().reduction());
        var e = assertThrows(UnsupportedOperationException.class, () -> new MSELoss().apply(Tensor.zeros(2)));
        assertEquals("MSELoss takes an input and a target: call apply(input, target)", e.getMessage());
    }
}

package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** A layer fed the wrong input names itself and both shapes; losses reject bad targets as PyTorch does. */
class BadInputTest {
    private Scope scope;

    @BeforeEach
    void open() { scope = Ember.scope(); }

    @AfterEach
    void close() { scope.close(); }

    private static String message(Class<? extends Throwable> type, Executable call) {
        return assertThrows(type, call).getMessage();
    }

    @Test
    void linearNamesItselfAndBothShapes() {
        try (Linear lin = new Linear(3000, 128)) {
            Tensor x = Tensor.zeros(64, 3136);
            String expected = "Linear(in_features=3000, out_features=128, bias=True): mat1 and mat2 shapes cannot be multiplied"
                    + " (64x3136 and 3000x128)";
            assertEquals(expected, message(IllegalArgumentException.class, () -> lin.apply(x)));
            // inside a model the failing layer is still the one named
            try (Sequential model = new Sequential(new Flatten(), lin)) {
                assertEquals(expected, message(IllegalArgumentException.class, () -> model.apply(x.reshape(64, 56, 56))));
            }
        }
        try (Linear small = new Linear(4, 3)) {
            assertEquals("Linear(in_features=4, out_features=3, bias=True): mat1 and mat2 shapes cannot be multiplied (14x5 and 4x3)",
                    message(IllegalArgumentException.class, () -> small.apply(Tensor.zeros(2, 7, 5))));
        }
    }

    @Test
    void conv2dWithTheWrongChannelsNamesItself() {
        try (Conv2d conv = new Conv2d(1, 32, 3)) {
            assertEquals("Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1)): Given groups=1, weight of size [32, 1, 3, 3],"
                    + " expected input[2, 3, 8, 8] to have 1 channels, but got 3 channels instead",
                    message(IllegalArgumentException.class, () -> conv.apply(Tensor.zeros(2, 3, 8, 8))));
            assertEquals("Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1)): Expected 3D (unbatched) or 4D (batched) input to"
                    + " conv2d, but got input of size: [2, 8, 8, 1, 1]",
                    message(IllegalArgumentException.class, () -> conv.apply(Tensor.zeros(2, 8, 8, 1, 1))));
        }
        assertEquals("in_channels must be divisible by groups",
                message(IllegalArgumentException.class, () -> new Conv2d(3, 4, 3, 1, 0, 1, 2, true)));
        assertEquals("out_channels must be divisible by groups",
                message(IllegalArgumentException.class, () -> new Conv2d(4, 3, 3, 1, 0, 1, 2, true)));
        assertEquals("groups must be a positive integer",
                message(IllegalArgumentException.class, () -> new Conv2d(4, 4, 3, 1, 0, 1, 0, true)));
    }

    @Test
    void normalisationLayersCheckTheirInput() {
        try (BatchNorm2d bn2 = new BatchNorm2d(3); BatchNorm1d bn1 = new BatchNorm1d(3); LayerNorm ln = new LayerNorm(10)) {
            assertEquals("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True): expected 4D input (got 3D input)",
                    message(IllegalArgumentException.class, () -> bn2.apply(Tensor.zeros(2, 3, 4))));
            assertTrue(message(IllegalArgumentException.class, () -> bn1.apply(Tensor.zeros(2, 3, 4, 5)))
                    .endsWith(": expected 2D or 3D input (got 4D input)"));
            assertTrue(message(IllegalArgumentException.class, () -> bn1.apply(Tensor.zeros(2, 4)))
                    .endsWith(": running_mean should contain 4 elements not 3"));
            bn1.eval();
            assertTrue(message(IllegalArgumentException.class, () -> bn1.apply(Tensor.zeros(2, 4)))
                    .endsWith(": running_mean should contain 4 elements not 3"));
            bn1.train();
            assertTrue(message(IllegalArgumentException.class, () -> bn1.apply(Tensor.zeros(1, 3)))
                    .endsWith(": Expected more than 1 value per channel when training, got input size [1, 3]"));
            assertEquals("LayerNorm((10,), eps=1e-05, elementwise_affine=True): Given normalized_shape=[10], expected input with"
                    + " shape [*, 10], but got input of size[2, 5]", message(IllegalArgumentException.class, () -> ln.apply(Tensor.zeros(2, 5))));
        }
        assertEquals("Given normalized_shape=[3, 10], expected input with shape [*, 3, 10], but got input of size[2, 5, 10]",
                message(IllegalArgumentException.class,
                        () -> Functional.layerNorm(Tensor.zeros(2, 5, 10), new long[] {3, 10}, null, null, 1e-5)));
    }

    @Test
    void embeddingRejectsFloatAndOutOfRangeIndices() {
        try (Embedding emb = new Embedding(10, 3)) {
            assertEquals("Embedding(10, 3): Expected tensor for argument #1 'indices' to have one of the following scalar types:"
                    + " Long, Int; but got float32 instead (while checking arguments for embedding)",
                    message(IllegalArgumentException.class, () -> emb.apply(Tensor.zeros(2))));
            String outOfRange = message(IndexOutOfBoundsException.class, () -> emb.apply(Tensor.fromArray(new long[] {1, 10})));
            assertTrue(outOfRange.startsWith("Embedding(10, 3): ") && outOfRange.contains("10"), outOfRange);
        }
    }

    @Test
    void dropoutRejectsBadProbabilities() {
        assertEquals("dropout probability has to be between 0 and 1, but got 1.5",
                message(IllegalArgumentException.class, () -> new Dropout(1.5)));
    }

    @Test
    void classTargetsOutOfRangeFailBeforeAnyIndexing() {
        Tensor logits = Tensor.zeros(3, 10);
        assertEquals("Target 12 is out of bounds. Class indices must lie in [0, 9] for 10 classes (or equal ignore_index -100).",
                message(IndexOutOfBoundsException.class,
                        () -> new CrossEntropyLoss().apply(logits, Tensor.fromArray(new long[] {1, 12, 3}))));
        assertTrue(message(IndexOutOfBoundsException.class,
                () -> Functional.nllLoss(logits, Tensor.fromArray(new long[] {1, -5, 3}))).startsWith("Target -5 is out of bounds."));
        assertTrue(message(IndexOutOfBoundsException.class,
                () -> Functional.crossEntropy(Tensor.zeros(2, 4, 3), Tensor.fromArray(new long[] {0, 1, 2, 3, 4, 1}, 2, 3)))
                .startsWith("Target 4 is out of bounds."));
        // ignore_index itself is fine even though it is no class
        assertEquals(0.0, Functional.crossEntropy(logits, Tensor.fromArray(new long[] {-100, -100, 0}), null, -100, "sum", 0).item()
                - Math.log(10), 1e-6);
    }

    @Test
    void classTargetsWithTheWrongShapeOrDtypeFailAsPyTorch() {
        Tensor logits = Tensor.zeros(3, 10);
        assertEquals("expected scalar type Long but found Int", message(IllegalArgumentException.class,
                () -> Functional.crossEntropy(logits, Tensor.fromArray(new int[] {1, 2, 3}))));
        assertEquals("Expected input batch_size (3) to match target batch_size (2).", message(IllegalArgumentException.class,
                () -> Functional.crossEntropy(logits, Tensor.fromArray(new long[] {1, 2}))));
        assertEquals("Expected target size [3, 4], got [3, 3]", message(IllegalArgumentException.class,
                () -> Functional.nllLoss(Tensor.zeros(3, 10, 4), Tensor.zeros(DType.INT64, 3, 3))));
        assertEquals("0D or 1D target tensor expected, multi-target not supported", message(IllegalArgumentException.class,
                () -> Functional.crossEntropy(logits, Tensor.zeros(DType.INT64, 3, 1))));
        assertEquals("foo is not a valid value for reduction", message(IllegalArgumentException.class,
                () -> Functional.crossEntropy(logits, Tensor.zeros(DType.INT64, 3), null, -100, "foo", 0)));
        assertEquals("label_smoothing must be between 0.0 and 1.0. Got: 1.5", message(IllegalArgumentException.class,
                () -> new CrossEntropyLoss(null, -100, "mean", 1.5)));
        assertEquals("weight tensor should be defined either for all 10 classes or no classes but got weight tensor of shape: [5]",
                message(IllegalArgumentException.class,
                        () -> Functional.nllLoss(logits, Tensor.zeros(DType.INT64, 3), Tensor.ones(5), -100, "mean")));
        assertEquals("Target size ([3]) must be the same as input size ([3, 1])", message(IllegalArgumentException.class,
                () -> Functional.binaryCrossEntropyWithLogits(Tensor.zeros(3, 1), Tensor.zeros(3))));
    }

    @Test
    void regressionLossesBroadcastAsPyTorchButNotPastIncompatibleShapes() {
        assertEquals(0.0, Functional.mseLoss(Tensor.zeros(3, 1), Tensor.zeros(3)).item());
        assertEquals("The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1",
                message(IllegalArgumentException.class, () -> Functional.mseLoss(Tensor.zeros(3, 2), Tensor.zeros(3))));
    }
}

package dev.ember.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.nn.CrossEntropyLoss;
import dev.ember.nn.Sequential;
import dev.ember.nn.data.DataLoader;
import dev.ember.nn.data.FashionMnist;
import dev.ember.nn.data.Normalize;
import dev.ember.nn.data.Split;
import dev.ember.nn.data.TensorDataset;
import dev.ember.nn.io.Safetensors;
import dev.ember.nn.optim.SGD;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job on the bundled subset: it loads from the classpath, learns, and its checkpoint loads back. */
class FashionMnistTrainTest {

    @Test
    void bundledSubsetHasTheAdvertisedSize() {
        FashionMnist subset = FashionMnist.subset();
        try (TensorDataset train = subset.load(Split.TRAIN); TensorDataset test = subset.load(Split.TEST)) {
            assertEquals(10_000, train.size());
            assertEquals(2_000, test.size());
            assertEquals(1, train.inputs().size(1));
        }
    }

    @Test
    void learnsWellAboveChanceOnAFewHundredSteps() {
        Ember.manualSeed(0);
        try (TensorDataset all = FashionMnist.subset().load(Split.TRAIN, Normalize.FASHION_MNIST);
             TensorDataset train = all.head(3_200);
             TensorDataset test = FashionMnist.subset().load(Split.TEST, Normalize.FASHION_MNIST);
             DataLoader trainLoader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(0).build();
             DataLoader testLoader = DataLoader.builder(test).batchSize(500).build();
             Sequential model = FashionMnistTrain.model();
             SGD optimizer = new SGD(model.parameters(), SGD.options(0.05).momentum(0.9))) {
            var stats = FashionMnistTrain.trainEpoch(model, new CrossEntropyLoss(), optimizer, trainLoader, 1, null);
            double accuracy = FashionMnistTrain.evaluate(model, testLoader);
            assertTrue(Double.isFinite(stats.loss()) && stats.loss() < 1.5, "train loss " + stats.loss());
            assertTrue(accuracy > 0.6, "test accuracy " + accuracy + " after one pass over 3,200 images");
        }
    }

    @Test
    void checkpointRoundTrips(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors");
        Ember.manualSeed(1);
        try (Sequential a = FashionMnistTrain.model()) {
            Safetensors.save(a.stateDict(), file);
            Ember.manualSeed(2);
            try (Sequential b = FashionMnistTrain.model(); var loaded = Safetensors.loadCheckpoint(file)) {
                b.loadStateDict(loaded.tensors(), true);
                for (var e : a.stateDict().entrySet()) {
                    Tensor other = b.stateDict().get(e.getKey());
                    assertTrue(e.getValue().equal(other), e.getKey());
                }
            }
        }
        assertTrue(Files.size(file) > 400_000);
    }

    @Test
    void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--epochs", "0"}));
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--bogus"}));
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse(new String[] {"--device", "tpu"}).resolveDevice());
        assertEquals(Device.cpu(), TrainOptions.parse(new String[] {"--device", "cpu"}).resolveDevice());
        Device auto = TrainOptions.parse(new String[0]).resolveDevice();
        assertEquals(Cuda.isAvailable() ? Device.cuda() : Device.cpu(), auto);
        if (!Cuda.isAvailable()) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> TrainOptions.parse(new String[] {"--device", "cuda:0"}).resolveDevice());
            assertTrue(e.getMessage().contains("CUDA is not available"), e.getMessage());
        }
        assertEquals(3, TrainOptions.parse(new String[] {"--epochs", "3"}).epochs());
    }
}

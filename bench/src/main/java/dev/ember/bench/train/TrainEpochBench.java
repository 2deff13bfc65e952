package dev.ember.bench.train;

import dev.ember.examples.FashionMnistTrain;
import dev.ember.nn.CrossEntropyLoss;
import dev.ember.nn.Sequential;
import dev.ember.nn.data.DataLoader;
import dev.ember.nn.data.FashionMnist;
import dev.ember.nn.data.Normalize;
import dev.ember.nn.data.Split;
import dev.ember.nn.data.TensorDataset;
import dev.ember.nn.optim.SGD;
import dev.ember.tensor.Ember;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One epoch of the Fashion-MNIST CNN (the README's main job: batch 64, SGD lr 0.05 momentum 0.9,
 * seed 0), timed from the first batch to the last, then the test accuracy and the process's
 * peak resident memory. An epoch is one long run, so a plain timed main measures it; JMH adds
 * nothing there. Prints "ember <name> <value> <unit>" lines for bench/run-train.sh.
 */
public final class TrainEpochBench {
    private TrainEpochBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : FashionMnist.DEFAULT_DIR.toString());
        Ember.manualSeed(0);
        FashionMnist data = FashionMnist.at(dir);
        try (TensorDataset train = data.load(Split.TRAIN, Normalize.FASHION_MNIST);
             TensorDataset test = data.load(Split.TEST, Normalize.FASHION_MNIST);
             DataLoader trainLoader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(0).build();
             DataLoader testLoader = DataLoader.builder(test).batchSize(250).build();
             Sequential model = FashionMnistTrain.model();
             SGD optimizer = new SGD(model.parameters(), SGD.options(0.05).momentum(0.9))) {
            long start = System.nanoTime();
            var stats = FashionMnistTrain.trainEpoch(model, new CrossEntropyLoss(), optimizer, trainLoader, 1, null);
            double seconds = (System.nanoTime() - start) / 1e9;
            double testAccuracy = FashionMnistTrain.evaluate(model, testLoader);
            System.out.printf("train accuracy %.4f, test accuracy %.4f, data wait %.2f s%n", stats.accuracy(), testAccuracy,
                    trainLoader.waitNanos() / 1e9);
            System.out.printf("ember ember_epoch_seconds %.2f s%n", seconds);
            System.out.printf("ember ember_images_per_second %.0f img/s%n", stats.images() / seconds);
            System.out.printf("ember ember_test_accuracy %.2f %%%n", 100 * testAccuracy);
        }
        System.out.printf("off-heap tensors: peak %d MiB, cached for reuse %d MiB; Java heap committed %d MiB%n",
                Ember.peakBytes() >> 20, Ember.cachedBytes() >> 20, Runtime.getRuntime().totalMemory() >> 20);
        System.out.printf("ember ember_peak_rss %d MiB%n", peakResidentKib() / 1024);
    }

    /** VmHWM: the most resident memory this process has had, as getrusage's ru_maxrss reports it. */
    static long peakResidentKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmHWM in /proc/self/status");
    }
}

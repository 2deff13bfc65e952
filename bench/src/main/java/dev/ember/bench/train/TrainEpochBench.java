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
 * Two epochs of the Fashion-MNIST CNN (the README's main job: batch 64, SGD lr 0.05 momentum 0.9,
 * seed 0), each timed from its first batch to its last, then the test accuracy and the process's
 * peak resident memory. The first epoch is cold: it includes the JIT compiling the kernels (a
 * few seconds on 2 cores); the second is what every later epoch costs. An epoch is one long run,
 * so a plain timed main measures it; JMH adds nothing there. Prints "ember <name> <value> <unit>"
 * lines for bench/run-train.sh.
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
            double[] seconds = new double[2];
            FashionMnistTrain.EpochStats stats = null;
            for (int epoch = 1; epoch <= seconds.length; epoch++) {
                long start = System.nanoTime();
                stats = FashionMnistTrain.trainEpoch(model, new CrossEntropyLoss(), optimizer, trainLoader, epoch, null);
                seconds[epoch - 1] = (System.nanoTime() - start) / 1e9;
            }
            double testAccuracy = FashionMnistTrain.evaluate(model, testLoader);
            System.out.printf("train accuracy %.4f, test accuracy after 2 epochs %.4f, data wait %.2f s%n", stats.accuracy(),
                    testAccuracy, trainLoader.waitNanos() / 1e9);
            System.out.printf("ember ember_epoch1_seconds %.2f s%n", seconds[0]);
            System.out.printf("ember ember_epoch2_seconds %.2f s%n", seconds[1]);
            System.out.printf("ember ember_images_per_second %.0f img/s%n", stats.images() / seconds[0]);
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

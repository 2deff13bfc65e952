package dev.ember.bench.train;

import dev.ember.examples.FashionMnistTrain;
import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
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
import java.util.Arrays;

/**
 * Epochs of the Fashion-MNIST CNN (the README's main job: batch 64, SGD lr 0.05 momentum 0.9,
 * seed 0), each timed from its first batch to its last, then the test accuracy and the process's
 * peak resident memory. The first epoch is cold: it includes the JIT compiling the kernels (a
 * few seconds on 2 cores) and, on the GPU, loading the kernels and choosing convolution
 * algorithms; the later ones are what every further epoch costs. An epoch is one long run, so a
 * plain timed main measures it; JMH adds nothing there. Prints "ember <name> <value> <unit>"
 * lines for bench/run-train.sh (CPU) and ci/gpu-run (GPU).
 *
 * <pre>TrainEpochBench [--device cpu|cuda] [--epochs N] [DATA_DIR]</pre>
 *
 * An epoch is {@link FashionMnistTrain#trainEpoch}, exactly what the example runs. On the GPU
 * the model moves to the device and each batch, gathered into pinned memory by the data
 * loader's worker, is copied over before its step (what bench/peers/fashion_mnist_torch.py does
 * with {@code --device cuda}); the step reads its loss and accuracy back once, after the
 * optimizer's update, so the host waits for the GPU once per step, as the peer does.
 */
public final class TrainEpochBench {
    private TrainEpochBench() {}

    static final String USAGE = "usage: TrainEpochBench [--device cpu|cuda] [--epochs N] [DATA_DIR]";

    public static void main(String[] args) throws Exception {
        Device device = Device.cpu();
        int epochs = 2;
        Path dir = FashionMnist.DEFAULT_DIR;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = Device.parse(value(args, ++i));
                case "--epochs" -> epochs = Integer.parseInt(value(args, ++i));
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    if (args[i].startsWith("--")) throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
                    dir = Path.of(args[i]);
                }
            }
        }
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        if (device.isCuda() && !Cuda.isAvailable()) {
            throw new IllegalStateException("--device " + device + ": CUDA is not available: " + Cuda.unavailableReason());
        }
        Ember.manualSeed(0);
        FashionMnist data = FashionMnist.at(dir);
        System.out.println(data.description() + ", on " + device);
        try (TensorDataset train = data.load(Split.TRAIN, Normalize.FASHION_MNIST);
             TensorDataset test = data.load(Split.TEST, Normalize.FASHION_MNIST);
             DataLoader trainLoader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(0).pinMemory(device.isCuda())
                     .build();
             DataLoader testLoader = DataLoader.builder(test).batchSize(250).pinMemory(device.isCuda()).build();
             // initialised on the host from the seed, then moved before the optimizer takes the parameters
             Sequential model = FashionMnistTrain.model(device)) {
            try (SGD optimizer = new SGD(model.parameters(), SGD.options(0.05).momentum(0.9))) {
                double[] seconds = new double[epochs];
                FashionMnistTrain.EpochStats stats = null;
                for (int epoch = 1; epoch <= epochs; epoch++) {
                    long start = System.nanoTime();
                    stats = FashionMnistTrain.trainEpoch(model, new CrossEntropyLoss(), optimizer, trainLoader, device, epoch, null);
                    seconds[epoch - 1] = (System.nanoTime() - start) / 1e9;
                    System.out.printf("epoch %d: %.3f s, train loss %.4f, train accuracy %.4f%n", epoch, seconds[epoch - 1],
                            stats.loss(), stats.accuracy());
                }
                double testAccuracy = FashionMnistTrain.evaluate(model, testLoader, device);
                System.out.printf("train accuracy %.4f, test accuracy after %d epochs %.4f, data wait %.2f s%n",
                        stats.accuracy(), epochs, testAccuracy, trainLoader.waitNanos() / 1e9);
                System.out.printf("ember ember_epoch1_seconds %.3f s%n", seconds[0]);
                if (epochs >= 2) {
                    System.out.printf("ember ember_epoch2_seconds %.3f s%n", seconds[1]);
                    // The best warm epoch: what a long training run costs per epoch.
                    System.out.printf("ember ember_epoch_warm_seconds %.3f s%n",
                            Arrays.stream(seconds, 1, epochs).min().orElseThrow());
                }
                System.out.printf("ember ember_images_per_second %.0f img/s%n", stats.images() / seconds[0]);
                System.out.printf("ember ember_test_accuracy %.2f %%%n", 100 * testAccuracy);
            }
        }
        System.out.printf("off-heap tensors: peak %d MiB, cached for reuse %d MiB; Java heap committed %d MiB%n",
                Ember.peakBytes() >> 20, Ember.cachedBytes() >> 20, Runtime.getRuntime().totalMemory() >> 20);
        System.out.printf("ember ember_peak_rss %d MiB%n", peakResidentKib() / 1024);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value\n" + USAGE);
        return args[i];
    }

    /** VmHWM: the most resident memory this process has had, as getrusage's ru_maxrss reports it. */
    static long peakResidentKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmHWM in /proc/self/status");
    }
}

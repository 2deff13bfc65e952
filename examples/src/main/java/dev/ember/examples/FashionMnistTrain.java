package dev.ember.examples;

import dev.ember.memory.Device;
import dev.ember.nn.Conv2d;
import dev.ember.nn.CrossEntropyLoss;
import dev.ember.nn.Flatten;
import dev.ember.nn.Linear;
import dev.ember.nn.MaxPool2d;
import dev.ember.nn.ReLU;
import dev.ember.nn.Sequential;
import dev.ember.nn.data.Batch;
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
import java.util.LinkedHashMap;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The main job: trains a small CNN on Fashion-MNIST and saves a checkpoint. The seven steps of
 * a training pipeline, in order: load the data, preprocess it, define the model, the loss and
 * the optimizer, the metric, train, report.
 *
 * <pre>
 * Conv2d(1,32,3,p1)-ReLU-MaxPool2 -> Conv2d(32,64,3,p1)-ReLU-MaxPool2 -> Flatten
 *   -> Linear(3136,128)-ReLU -> Linear(128,10); CrossEntropy; SGD lr 0.05 momentum 0.9; batch 64; seed 0
 * </pre>
 */
public final class FashionMnistTrain {
    private FashionMnistTrain() {}

    public static void main(String[] args) throws Exception {
        TrainOptions o = TrainOptions.parse(args);
        if (o.help()) {
            System.out.println(TrainOptions.USAGE);
            return;
        }
        Ember.manualSeed(o.seed());
        if (o.threads() > 0) Ember.setNumThreads(o.threads());
        Device device = o.resolveDevice();
        System.out.println("device: " + device + (device.isCpu() ? " (" + Ember.numThreads() + " CPU threads)" : ""));

        // 1. load, 2. preprocess (scaled to [0, 1], normalised once when loaded)
        FashionMnist data = o.dataDir() == null ? FashionMnist.fullOrSubset() : FashionMnist.fullOrSubset(o.dataDir());
        System.out.println(data.description());
        try (TensorDataset train = data.load(Split.TRAIN, Normalize.FASHION_MNIST);
             TensorDataset test = data.load(Split.TEST, Normalize.FASHION_MNIST);
             DataLoader trainLoader = DataLoader.builder(train).batchSize(o.batchSize()).shuffle(true).seed(o.seed())
                     .pinMemory(device.isCuda()).build();
             DataLoader testLoader = DataLoader.builder(test).batchSize(250).pinMemory(device.isCuda()).build();
             // 3. the model, the loss and the optimizer
             Sequential model = model(device);
             SGD optimizer = new SGD(model.parameters(), SGD.options(o.lr()).momentum(0.9))) {
            CrossEntropyLoss lossFn = new CrossEntropyLoss();
            System.out.println(model);
            for (int epoch = 1; epoch <= o.epochs(); epoch++) {
                long start = System.nanoTime();
                EpochStats stats = trainEpoch(model, lossFn, optimizer, trainLoader, device, epoch, o.epochs());
                double seconds = (System.nanoTime() - start) / 1e9;
                double testAccuracy = evaluate(model, testLoader, device);
                // 7. report
                System.out.printf("epoch %d/%d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%"
                                + " (%.1f s, %.0f images/s)%n", epoch, o.epochs(), stats.loss(), 100 * stats.accuracy(),
                        100 * testAccuracy, seconds, stats.images() / seconds);
            }
            saveCheckpoint(model, optimizer, o);
        }
    }

    /** The CNN, initialised from the default generator (seed it with Ember.manualSeed first). */
    public static Sequential model() {
        return new Sequential(
                new Conv2d(1, 32, 3, 1, 1), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(3136, 128), new ReLU(), new Linear(128, 10));
    }

    /** The CNN initialised on the CPU (so a seed gives the same weights on every device), then moved to {@code device}. */
    public static Sequential model(Device device) {
        Sequential m = model();
        m.to(device);
        return m;
    }

    /** Running sums of one epoch. */
    public record EpochStats(double loss, double accuracy, long images) {}

    /** 6. train: one pass over the data, with a progress bar. */
    public static EpochStats trainEpoch(Sequential model, CrossEntropyLoss lossFn, SGD optimizer, DataLoader loader,
                                        Device device, int epoch, int epochs) {
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + epochs)
                .setInitialMax(loader.numBatches()).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                .continuousUpdate().build()) {
            return trainEpoch(model, lossFn, optimizer, loader, device, epoch, bar);
        }
    }

    /** One pass over the data on the CPU; {@code bar} (may be null) is stepped per batch. */
    public static EpochStats trainEpoch(Sequential model, CrossEntropyLoss lossFn, SGD optimizer, DataLoader loader,
                                        int epoch, ProgressBar bar) {
        return trainEpoch(model, lossFn, optimizer, loader, Device.cpu(), epoch, bar);
    }

    /**
     * One pass over the data on {@code device} (where the model is; each batch is copied there);
     * {@code bar} (may be null) is stepped per batch.
     */
    public static EpochStats trainEpoch(Sequential model, CrossEntropyLoss lossFn, SGD optimizer, DataLoader loader,
                                        Device device, int epoch, ProgressBar bar) {
        model.train();
        double lossSum = 0;
        long correct = 0, seen = 0, step = 0;
        for (Batch batch : loader) {
            step++;
            try (batch; var scope = Ember.scope()) {
                Tensor targets = batch.targets().to(device);
                Tensor logits = model.forward(batch.inputs().to(device));
                Tensor loss = lossFn.forward(logits, targets);
                optimizer.zeroGrad();
                loss.backward();
                optimizer.step();
                // read after the step: on a GPU the host then waits once per step, not between forward and backward
                double value = loss.item();
                if (!Double.isFinite(value)) {
                    throw new IllegalStateException("loss is " + value + " at step " + step + " of epoch " + epoch
                            + "; try a smaller learning rate (--lr)");
                }
                // 5. the metric: accuracy of the batch's predictions
                correct += logits.argmax(1).eq(targets).sum().itemLong();
                lossSum += value * batch.size();
                seen += batch.size();
            }
            if (bar == null) continue;
            bar.step();
            bar.setExtraMessage(String.format(" loss %.4f acc %.2f%%", lossSum / seen, 100.0 * correct / seen));
        }
        return new EpochStats(lossSum / seen, (double) correct / seen, seen);
    }

    /** Accuracy on the test set on the CPU, without recording a graph. */
    public static double evaluate(Sequential model, DataLoader loader) { return evaluate(model, loader, Device.cpu()); }

    /** Accuracy on the test set on {@code device} (where the model is), without recording a graph. */
    public static double evaluate(Sequential model, DataLoader loader, Device device) {
        model.eval();
        long correct = 0, seen = 0;
        try (var noGrad = Ember.noGrad()) {
            for (Batch batch : loader) {
                try (batch; var scope = Ember.scope()) {
                    Tensor predicted = model.forward(batch.inputs().to(device)).argmax(1);
                    correct += predicted.eq(batch.targets().to(device)).sum().itemLong();
                    seen += batch.size();
                }
            }
        }
        return (double) correct / seen;
    }

    /** The model's stateDict and the optimizer's state in one safetensors file, written atomically. */
    private static void saveCheckpoint(Sequential model, SGD optimizer, TrainOptions o) throws Exception {
        Path path = o.checkpoint();
        if (path.getParent() != null) Files.createDirectories(path.getParent());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> tensors.put("model." + k, v));
        Map<String, Tensor> optimizerState = optimizer.stateDict();
        optimizerState.forEach((k, v) -> tensors.put("optimizer." + k, v));
        try {
            Safetensors.save(tensors, Map.of("format", "ember", "model", "fashion-mnist-cnn", "epochs", Integer.toString(o.epochs())),
                    path);
        } finally {
            optimizerState.values().forEach(Tensor::close);
        }
        System.out.println("checkpoint saved to " + path.toAbsolutePath());
    }
}

package dev.ember.examples;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import java.nio.file.Path;

/** Command-line options of {@link FashionMnistTrain}. */
record TrainOptions(int epochs, int batchSize, double lr, String device, Path dataDir, Path checkpoint, long seed,
                    int threads, boolean help) {

    static final String USAGE = """
            usage: FashionMnistTrain [options]
              --epochs N        passes over the training set (default 2)
              --batch-size N    examples per step (default 64)
              --lr X            SGD learning rate (default 0.05; momentum 0.9)
              --device D        auto, cpu, cuda or cuda:N (default auto: CUDA when Ember can use it, else CPU)
              --data-dir DIR    Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist,
                                else the subset bundled with Ember)
              --checkpoint F    where to save the trained model (default checkpoints/fashion-mnist-cnn.safetensors)
              --seed N          seed for initialisation and shuffling (default 0)
              --threads N       CPU threads (default: all cores)""";

    static TrainOptions parse(String[] args) {
        int epochs = 2, batch = 64, threads = 0;
        double lr = 0.05;
        String device = "auto";
        Path dataDir = null, checkpoint = Path.of("checkpoints", "fashion-mnist-cnn.safetensors");
        long seed = 0;
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--epochs" -> epochs = positive(a, value(args, ++i, a));
                case "--batch-size" -> batch = positive(a, value(args, ++i, a));
                case "--lr" -> lr = Double.parseDouble(value(args, ++i, a));
                case "--device" -> device = value(args, ++i, a);
                case "--data-dir" -> dataDir = Path.of(value(args, ++i, a));
                case "--checkpoint" -> checkpoint = Path.of(value(args, ++i, a));
                case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
                case "--threads" -> threads = positive(a, value(args, ++i, a));
                case "-h", "--help" -> help = true;
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
            }
        }
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
        return new TrainOptions(epochs, batch, lr, device, dataDir, checkpoint, seed, threads, help);
    }

    /** The device to train on: "auto" is CUDA device 0 when Ember can use CUDA, else the CPU. */
    Device resolveDevice() {
        return switch (device) {
            case "auto" -> Cuda.isAvailable() ? Device.cuda() : Device.cpu();
            case "cpu" -> Device.cpu();
            default -> {
                if (!device.startsWith("cuda")) {
                    throw new IllegalArgumentException("--device must be auto, cpu, cuda or cuda:N, got " + device);
                }
                Device d = Device.parse(device);
                if (!Cuda.isAvailable()) {
                    throw new IllegalArgumentException("--device " + device + ": CUDA is not available here ("
                            + Cuda.unavailableReason() + "); use --device cpu (or auto)");
                }
                yield d;
            }
        };
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
        return args[i];
    }

    private static int positive(String option, String v) {
        int n = Integer.parseInt(v);
        if (n <= 0) throw new IllegalArgumentException(option + " must be positive, got " + n);
        return n;
    }
}

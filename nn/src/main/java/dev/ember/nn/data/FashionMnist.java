package dev.ember.nn.data;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Fashion-MNIST (Zalando, 2017): 28x28 grey images of ten kinds of clothing, 60,000 for
 * training and 10,000 for testing, in the gzip'd IDX files of MNIST's layout.
 *
 * <p>An instance says where the four files come from: a directory (by default
 * {@link #DEFAULT_DIR}, where Debian's {@code dataset-fashion-mnist} package installs them) or a
 * folder on the classpath (the subset bundled with Ember's examples). {@link #load} reads a split
 * into a {@link TensorDataset} of float32 images [N, 1, 28, 28] scaled to [0, 1] (optionally
 * normalised once, in place) and int64 labels [N] in 0..9.
 *
 * <pre>{@code
 * FashionMnist data = FashionMnist.fullOrSubset();   // the full set if installed, else the bundled subset
 * System.out.println(data.description());
 * try (TensorDataset train = data.load(Split.TRAIN, Normalize.FASHION_MNIST)) { ... }
 * }</pre>
 *
 * Missing files raise a {@link DatasetNotFoundException} naming each missing file and how to get
 * them; damaged ones an {@link UncheckedIOException} wrapping the {@link IdxFormatException}.
 */
public final class FashionMnist {
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The command that installs the full set, quoted in every "not found" message. */
    public static final String INSTALL_COMMAND = "apt-get install dataset-fashion-mnist";
    /** The classpath folder of the subset (10,000 train, 2,000 test images) shipped with Ember's examples. */
    public static final String SUBSET_RESOURCE = "fashion-mnist-subset";
    /** The class names, by label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private final Path dir;            // null when reading from the classpath
    private final String resource;     // null when reading from a directory
    private final Path missingFullSet; // the directory the full set was not found in, when this is the fallback

    private FashionMnist(Path dir, String resource, Path missingFullSet) {
        this.dir = dir;
        this.resource = resource;
        this.missingFullSet = missingFullSet;
    }

    // ---------------------------------------------------------------- where the files are

    /** The set in {@code dir} (gzip'd files, or the same names without .gz). */
    public static FashionMnist at(Path dir) {
        return new FashionMnist(dir, null, null);
    }

    /** A set whose files lie in {@code folder} on the classpath (e.g. "fashion-mnist-tiny" in tests). */
    public static FashionMnist onClasspath(String folder) {
        return new FashionMnist(null, folder, null);
    }

    /** The subset bundled with Ember's examples (needs ember-examples on the classpath). */
    public static FashionMnist subset() {
        return onClasspath(SUBSET_RESOURCE);
    }

    /** The full set in {@link #DEFAULT_DIR} if all four files are there, else the bundled subset. */
    public static FashionMnist fullOrSubset() {
        return fullOrSubset(DEFAULT_DIR);
    }

    /** The full set in {@code dir} if all four files are there, else the bundled subset. */
    public static FashionMnist fullOrSubset(Path dir) {
        FashionMnist full = at(dir);
        boolean complete = true;
        for (Split split : Split.values()) {
            complete &= full.file(imagesFile(split)) != null && full.file(labelsFile(split)) != null;
        }
        return complete ? full : new FashionMnist(null, SUBSET_RESOURCE, dir);
    }

    // ---------------------------------------------------------------- conveniences

    /** The training split in {@code dir}, scaled to [0, 1]. */
    public static TensorDataset train(Path dir) { return at(dir).load(Split.TRAIN); }

    /** The test split in {@code dir}, scaled to [0, 1]. */
    public static TensorDataset test(Path dir) { return at(dir).load(Split.TEST); }

    /** The training split in {@link #DEFAULT_DIR}. */
    public static TensorDataset train() { return train(DEFAULT_DIR); }

    /** The test split in {@link #DEFAULT_DIR}. */
    public static TensorDataset test() { return test(DEFAULT_DIR); }

    /** A split of the bundled subset, scaled to [0, 1]. */
    public static TensorDataset bundledSubset(Split split) { return subset().load(split); }

    // ---------------------------------------------------------------- loading

    /** A split as float32 images [N, 1, 28, 28] in [0, 1] and int64 labels [N]. */
    public TensorDataset load(Split split) {
        return load(split, null);
    }

    /**
     * A split as float32 images [N, 1, 28, 28] in [0, 1], then normalised in place when
     * {@code normalize} is not null (once, here, so batches need no further work), and int64
     * labels [N].
     */
    public TensorDataset load(Split split, Normalize normalize) {
        try {
            Idx images = read(imagesFile(split)).expectUbyte(3, "images [N, H, W]");
            Idx labels = read(labelsFile(split)).expectUbyte(1, "labels [N]");
            int[] dims = images.dims();
            int n = dims[0];
            if (labels.dims()[0] != n) {
                throw new IdxFormatException(labels.source(), "holds " + labels.dims()[0] + " labels, but "
                        + images.source() + " holds " + n + " images");
            }
            long[] targets = classIndices(labels);
            Tensor x = pixels(images.data(), n, dims[1], dims[2], normalize);
            try {
                return new TensorDataset(x, Tensor.fromArray(targets));
            } catch (RuntimeException e) {
                x.close();
                throw e;
            }
        } catch (IdxFormatException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new DatasetNotFoundException(where(split) + ": " + e.getMessage() + ". " + howToGet(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the " + where(split) + ": " + e, e);
        }
    }

    /** uint8 pixels to float32 [n, 1, h, w] in [0, 1] (x / 255, as torchvision's ToTensor), then normalised. */
    private static Tensor pixels(byte[] data, int n, int h, int w, Normalize normalize) {
        Tensor x;
        try (Tensor bytes = Tensor.fromArray(data, n, 1, h, w)) {
            x = bytes.to(DType.FLOAT32);
        }
        try {
            x.div_(255.0);
            if (normalize != null) normalize.normalize_(x);
            return x;
        } catch (RuntimeException e) {
            x.close();
            throw e;
        }
    }

    /** The labels as int64, each checked to be one of the ten classes. */
    private static long[] classIndices(Idx labels) throws IdxFormatException {
        byte[] b = labels.data();
        long[] out = new long[b.length];
        for (int i = 0; i < b.length; i++) {
            int label = b[i] & 0xFF;
            if (label >= CLASSES.size()) {
                throw new IdxFormatException(labels.source(), "label " + label + " at index " + i
                        + " is not a class (expected 0.." + (CLASSES.size() - 1) + ")");
            }
            out[i] = label;
        }
        return out;
    }

    /** The number of images in a split, from the file's header alone. */
    public int size(Split split) {
        String name = imagesFile(split);
        try {
            if (dir != null) {
                Path f = file(name);
                if (f == null) throw new NoSuchFileException(missing(name));
                return Idx.readHeader(f).dims()[0];
            }
            try (InputStream in = resourceStream(name)) {
                return Idx.readHeader(in, resourceName(name)).dims()[0];
            }
        } catch (NoSuchFileException e) {
            throw new DatasetNotFoundException(where(split) + ": " + e.getMessage() + ". " + howToGet(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the " + where(split) + ": " + e, e);
        }
    }

    /** Whether this reads from a directory (the full set, normally) rather than the classpath. */
    public boolean isDirectory() { return dir != null; }

    /** Whether this is the bundled subset, chosen because the full set was not found. */
    public boolean isFallback() { return missingFullSet != null; }

    /**
     * One line saying which data this is, for a training program to print: the full set and its
     * directory, or the subset and, when it stands in for a missing full set, how to get that.
     */
    public String description() {
        String counts;
        try {
            counts = String.format(Locale.ROOT, " (%,d train, %,d test images)", size(Split.TRAIN), size(Split.TEST));
        } catch (UncheckedIOException e) {
            counts = ""; // a one-line summary; load() reports what is wrong in full
        }
        if (dir != null) return "Fashion-MNIST from " + dir + counts;
        if (missingFullSet != null) {
            return "Fashion-MNIST: full set not found in " + missingFullSet + ", using the subset bundled with Ember" + counts
                    + "; for the full set: " + INSTALL_COMMAND;
        }
        return "Fashion-MNIST subset from the classpath (" + resource + ")" + counts;
    }

    @Override
    public String toString() { return description(); }

    // ---------------------------------------------------------------- files

    /** The images file of a split, e.g. train-images-idx3-ubyte.gz. */
    public static String imagesFile(Split split) { return prefix(split) + "-images-idx3-ubyte.gz"; }

    /** The labels file of a split, e.g. train-labels-idx1-ubyte.gz. */
    public static String labelsFile(Split split) { return prefix(split) + "-labels-idx1-ubyte.gz"; }

    private static String prefix(Split split) { return split == Split.TRAIN ? "train" : "t10k"; }

    private Idx read(String name) throws IOException {
        if (dir != null) {
            Path f = file(name);
            if (f == null) throw new NoSuchFileException(missing(name));
            return Idx.read(f);
        }
        try (InputStream in = resourceStream(name)) {
            return Idx.read(in, resourceName(name));
        }
    }

    /** The file in {@link #dir}, gzip'd or else gunzipped, or null if neither exists. */
    private Path file(String name) {
        Path gz = dir.resolve(name);
        if (Files.isRegularFile(gz)) return gz;
        Path plain = dir.resolve(name.substring(0, name.length() - ".gz".length()));
        return Files.isRegularFile(plain) ? plain : null;
    }

    /** Says which files of the split that {@code name} belongs to are missing, so one message lists them all. */
    private String missing(String name) {
        Split split = name.startsWith("train") ? Split.TRAIN : Split.TEST;
        if (!Files.isDirectory(dir)) {
            return "directory " + dir + " does not exist (looked there for " + imagesFile(split) + " and "
                    + labelsFile(split) + ")";
        }
        List<String> gone = new ArrayList<>();
        for (String f : List.of(imagesFile(split), labelsFile(split))) {
            if (file(f) == null) gone.add(dir.resolve(f).toString());
        }
        return String.join(" and ", gone) + (gone.size() == 1 ? " is missing" : " are missing");
    }

    private InputStream resourceStream(String name) throws NoSuchFileException {
        String path = resourceName(name);
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        InputStream in = context == null ? null : context.getResourceAsStream(path);
        if (in == null) in = FashionMnist.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            String hint = SUBSET_RESOURCE.equals(resource) ? " (the subset ships in the ember-examples jar)" : "";
            throw new NoSuchFileException("classpath resource " + path + " is missing" + hint);
        }
        return in;
    }

    private String resourceName(String name) { return resource + "/" + name; }

    private String where(Split split) {
        String set = dir != null ? "Fashion-MNIST " : "Fashion-MNIST subset ";
        return set + split.name().toLowerCase(Locale.ROOT) + " split";
    }

    private static String howToGet() {
        return "Get the full set with `" + INSTALL_COMMAND + "` (it installs to " + DEFAULT_DIR
                + "), or pass the directory that holds " + imagesFile(Split.TRAIN) + ", " + labelsFile(Split.TRAIN) + ", "
                + imagesFile(Split.TEST) + " and " + labelsFile(Split.TEST) + ".";
    }
}

package dev.ember.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Ember's compiled CUDA kernels, as the fatbin images this jar carries.
 *
 * <p>The build compiles each {@code native-kernels/src/main/cuda/NAME.cu} with nvcc into
 * the resource {@code dev/ember/kernels/NAME.fatbin} (SASS for sm_80 and sm_90a, PTX for
 * compute_80 that newer GPUs JIT-compile) and lists the images and their kernels in
 * {@code dev/ember/kernels/kernels.properties}. An image is what {@code cuModuleLoadData}
 * takes; a kernel name is what {@code cuModuleGetFunction} takes:
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofConfined()) {
 *     long module = CudaDriver.moduleLoadData(KernelImages.imageSegment("fill", arena));
 *     long fillF32 = CudaDriver.moduleGetFunction(module, "ember_fill_f32");
 * }
 * }</pre>
 *
 * <p>Where the build had no nvcc the jar carries no images; {@link #isBuilt()} is then false
 * and {@link #notBuiltReason()} says "kernels not built" and why. Nothing here needs a GPU
 * or a CUDA driver.
 */
public final class KernelImages {

    /** Resource folder of the images and their index. */
    public static final String RESOURCE_DIR = "dev/ember/kernels/";

    private static final String INDEX_RESOURCE = RESOURCE_DIR + "kernels.properties";

    private KernelImages() {
    }

    /** Loaded on first use; resources do not change while the JVM runs. */
    private static final class Holder {
        static final KernelIndex INDEX = load();

        private static KernelIndex load() {
            try (InputStream in = openResource(INDEX_RESOURCE)) {
                if (in == null) {
                    return KernelIndex.notBuilt(INDEX_RESOURCE + " is not on the class path"
                            + " (ember-native-kernels was packaged without running build-kernels.sh)");
                }
                Properties p = new Properties();
                p.load(in);
                return KernelIndex.parse(p);
            } catch (IOException | IllegalArgumentException e) {
                return KernelIndex.notBuilt("cannot read " + INDEX_RESOURCE + ": " + e);
            }
        }
    }

    private static InputStream openResource(String path) {
        // Absolute lookup through this class works on the class path and the module path.
        return KernelImages.class.getResourceAsStream("/" + path);
    }

    /** Whether this jar carries compiled kernels. Never throws. */
    public static boolean isBuilt() {
        return Holder.INDEX.isBuilt();
    }

    /**
     * Why there are no kernels, starting with "kernels not built", or the empty string when
     * they were built (the same convention as {@code Cuda.unavailableReason()}). Never throws.
     */
    public static String notBuiltReason() {
        return Holder.INDEX.notBuiltReason();
    }

    /** The names of the images (one per .cu file), sorted; empty when not built. */
    public static List<String> imageNames() {
        return Holder.INDEX.imageNames();
    }

    /** The nvcc version that compiled the images ("13.0.88"), empty when not built. */
    public static String nvccVersion() {
        return Holder.INDEX.nvccVersion();
    }

    /** The targets each image carries, e.g. [sm_80, sm_90a, compute_80]; empty when not built. */
    public static List<String> targets() {
        return Holder.INDEX.targets();
    }

    /**
     * The kernels (entry function names) in one image, sorted.
     *
     * @throws IllegalStateException    when the kernels were not built
     * @throws IllegalArgumentException when there is no such image
     */
    public static List<String> kernelNames(String image) {
        requireBuilt();
        List<String> kernels = Holder.INDEX.kernelsOf(image);
        if (kernels == null) {
            throw unknownImage(image);
        }
        return kernels;
    }

    /** The image that holds a kernel, if any image does. Never throws. */
    public static Optional<String> imageOf(String kernel) {
        return Optional.ofNullable(Holder.INDEX.imageOf(kernel));
    }

    /**
     * The bytes of one fatbin image (a fresh copy).
     *
     * @throws IllegalStateException    when the kernels were not built, or the jar lacks an
     *                                  image its index lists
     * @throws IllegalArgumentException when there is no such image
     */
    public static byte[] image(String name) {
        requireBuilt();
        if (Holder.INDEX.kernelsOf(name) == null) {
            throw unknownImage(name);
        }
        String path = RESOURCE_DIR + name + ".fatbin";
        try (InputStream in = openResource(path)) {
            if (in == null) {
                throw new IllegalStateException("kernel image " + path + " is listed in "
                        + INDEX_RESOURCE + " but missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel image " + path, e);
        }
    }

    /**
     * One image copied into native memory of {@code arena}, ready for
     * {@code cuModuleLoadData}. The copy is 64-byte aligned (the driver reads the fatbin
     * header as 8-byte words) and followed by one zero byte, so the same call would also
     * accept a NUL-terminated PTX text. The segment's size is the image's size.
     *
     * @throws IllegalStateException    when the kernels were not built
     * @throws IllegalArgumentException when there is no such image
     */
    public static MemorySegment imageSegment(String name, Arena arena) {
        byte[] bytes = image(name);
        MemorySegment copy = arena.allocate(bytes.length + 1L, 64);
        MemorySegment.copy(bytes, 0, copy, ValueLayout.JAVA_BYTE, 0, bytes.length);
        copy.set(ValueLayout.JAVA_BYTE, bytes.length, (byte) 0);
        return copy.asSlice(0, bytes.length);
    }

    private static void requireBuilt() {
        if (!isBuilt()) {
            throw new IllegalStateException(notBuiltReason());
        }
    }

    private static IllegalArgumentException unknownImage(String name) {
        return new IllegalArgumentException("no kernel image '" + name + "'; the images are "
                + String.join(", ", imageNames()));
    }
}

package dev.ember.kernels;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The parsed {@code kernels.properties} that {@code build-kernels.sh} writes next to the
 * fatbins: whether the kernels were built (and if not, why), and which kernels each image
 * holds. Kept apart from {@link KernelImages} so the parsing can be tested on any index,
 * not only the one this build produced.
 */
final class KernelIndex {

    static final String NOT_BUILT = "kernels not built";

    private final String notBuiltReason;
    private final String nvccVersion;
    private final List<String> targets;
    private final Map<String, List<String>> kernelsByImage;
    private final Map<String, String> imageByKernel;

    private KernelIndex(String notBuiltReason, String nvccVersion, List<String> targets,
                        Map<String, List<String>> kernelsByImage) {
        this.notBuiltReason = notBuiltReason;
        this.nvccVersion = nvccVersion;
        this.targets = List.copyOf(targets);
        this.kernelsByImage = Collections.unmodifiableMap(kernelsByImage);
        Map<String, String> owners = new LinkedHashMap<>();
        kernelsByImage.forEach((image, kernels) -> kernels.forEach(k -> owners.put(k, image)));
        this.imageByKernel = Collections.unmodifiableMap(owners);
    }

    /** An index for a jar that carries no kernels, with the reason to report. */
    static KernelIndex notBuilt(String why) {
        return new KernelIndex(NOT_BUILT + ": " + why, "", List.of(), new LinkedHashMap<>());
    }

    /**
     * Reads the index. A malformed index is reported as "kernels not built" with what is
     * wrong, never thrown: callers ask {@link KernelImages#isBuilt()} before anything else.
     */
    static KernelIndex parse(Properties p) {
        if (!"true".equals(p.getProperty("built"))) {
            String reason = p.getProperty("reason", "").strip();
            return notBuilt(reason.isEmpty() ? "the kernel index says the kernels were not built" : reason);
        }
        String images = p.getProperty("images", "").strip();
        if (images.isEmpty()) {
            return notBuilt("the kernel index lists no images");
        }
        Map<String, List<String>> kernelsByImage = new LinkedHashMap<>();
        for (String image : images.split(",")) {
            String name = image.strip();
            String kernels = p.getProperty("image." + name);
            if (name.isEmpty() || kernels == null) {
                return notBuilt("the kernel index names image '" + name + "' but lists no kernels for it");
            }
            kernelsByImage.put(name, splitList(kernels, ","));
        }
        return new KernelIndex("", p.getProperty("nvcc", "unknown"),
                splitList(p.getProperty("targets", ""), " "), kernelsByImage);
    }

    private static List<String> splitList(String s, String separator) {
        List<String> out = new ArrayList<>();
        for (String part : s.split(separator)) {
            if (!part.isBlank()) out.add(part.strip());
        }
        return List.copyOf(out);
    }

    boolean isBuilt() {
        return notBuiltReason.isEmpty();
    }

    String notBuiltReason() {
        return notBuiltReason;
    }

    String nvccVersion() {
        return nvccVersion;
    }

    List<String> targets() {
        return targets;
    }

    List<String> imageNames() {
        return List.copyOf(kernelsByImage.keySet());
    }

    /** Kernels of one image, or null if there is no such image. */
    List<String> kernelsOf(String image) {
        return kernelsByImage.get(image);
    }

    /** The image holding a kernel, or null. */
    String imageOf(String kernel) {
        return imageByKernel.get(kernel);
    }
}

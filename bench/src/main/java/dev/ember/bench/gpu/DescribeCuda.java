package dev.ember.bench.gpu;

import dev.ember.ffi.Cuda;

import java.lang.reflect.Method;

/**
 * Prints what Ember finds of CUDA, for the GPU suite's header ({@code ci/gpu-run}): the
 * driver, each device, cuBLAS, cuDNN and NVRTC with where each was loaded from
 * ({@link Cuda#describe()}), and whether the kernel fatbins are in the package. Never fails:
 * without CUDA it says why. Exits 0 when CUDA is usable, 1 when it is not.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp JARS dev.ember.bench.gpu.DescribeCuda</pre>
 */
public final class DescribeCuda {
    private DescribeCuda() {
    }

    public static void main(String[] args) {
        System.out.println(Cuda.describe());
        System.out.println("kernels: " + kernels());
        System.out.println("java: " + System.getProperty("java.vm.name") + " " + Runtime.version());
        System.out.flush();
        System.exit(Cuda.isAvailable() ? 0 : 1);
    }

    /**
     * Whether the native-kernels jar with its fatbins is on the class path. The bench module
     * does not depend on native-kernels at compile time, so this looks the class up by name.
     */
    private static String kernels() {
        try {
            Class<?> images = Class.forName("dev.ember.kernels.KernelImages");
            Method isBuilt = images.getMethod("isBuilt");
            if ((Boolean) isBuilt.invoke(null)) {
                return "fatbins " + images.getMethod("imageNames").invoke(null) + " built by nvcc "
                        + images.getMethod("nvccVersion").invoke(null);
            }
            return "NOT BUILT: " + images.getMethod("notBuiltReason").invoke(null);
        } catch (ClassNotFoundException e) {
            return "the native-kernels jar is not on the class path";
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return "unknown (" + cause + ")";
        }
    }
}

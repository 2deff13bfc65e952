package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.kernels.KernelImages;
import dev.ember.tensor.cuda.CudaKernels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every kernel name the CUDA indexing and random-number code builds (from an op and its dtypes)
 * is one the kernel images of this build hold. Runs wherever nvcc built the kernels; no GPU needed.
 */
class CudaIndexKernelsTest {

    @Test
    void everyIndexingKernelLookedUpExists() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> names = new ArrayList<>(List.of(CudaIndexing.ONE_HOT, CudaIndexing.MIN_MAX));
        for (DType t : DType.values()) {
            for (String op : List.of("gather", "scatter", "scatter_value", "scatter_add", "masked_fill")) {
                names.add(CudaIndexing.layoutKernel(op, t));
            }
            for (DType index : List.of(DType.INT32, DType.INT64)) {
                names.add(CudaIndexing.alongKernel("select", t, index));
                names.add(CudaIndexing.alongKernel("add", t, index));
            }
        }
        assertAllExist(names);
    }

    @Test
    void everyRandomKernelLookedUpExists() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> names = new ArrayList<>();
        for (DType t : TestTensors.FLOATS) {
            names.add(CudaRandom.uniformKernel(t));
            names.add(CudaRandom.normalKernel(t));
            names.add(CudaRandom.dropoutKernel(t));
            names.add(CudaRandom.dropoutBackwardKernel(t));
        }
        assertAllExist(names);
    }

    private static void assertAllExist(List<String> names) {
        List<String> missing = names.stream().filter(n -> !CudaKernels.exists(n)).toList();
        assertTrue(missing.isEmpty(), "CUDA kernels missing: " + missing);
    }
}

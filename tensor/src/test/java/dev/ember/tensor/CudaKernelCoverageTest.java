package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.kernels.KernelImages;
import dev.ember.tensor.cuda.CudaKernels;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every elementwise op declaration that the CPU backend runs for a dtype has the CUDA kernel
 * the CUDA backend will look up for it (by the naming rule in {@link CudaOps}), in the kernel
 * images this build made. Runs wherever nvcc built the kernels (CI does); no GPU needed.
 */
@ExtendWith(TestTensors.Scoped.class)
class CudaKernelCoverageTest {

    @Test
    void everyUnaryOpTheCpuRunsHasItsKernelForEachDtype() throws Exception {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> missing = new ArrayList<>();
        List<UnaryOp> ops = declared(UnaryOps.class, UnaryOp.class);
        ops.add(UnaryOps.clamp(-1.0, 1.0));
        ops.add(UnaryOps.clamp(-0.5, null));
        ops.add(UnaryOps.powScalar(3, true));
        ops.add(UnaryOps.powScalar(0.5, false));
        ops.add(UnaryOps.softplus(1, 20));
        for (UnaryOp op : ops) {
            for (DType in : DType.values()) {
                if (refusedForBool(op.name(), in)) continue;
                try (Tensor x = Tensor.ones(in, 2); Tensor y = Elementwise.unary(x, op)) {
                    DType kernelType = y.dtype() == DType.BOOL ? in : y.dtype();
                    String name = CudaOps.unaryKernel(op, kernelType);
                    if (!CudaKernels.exists(name)) missing.add(name + " (for " + in + ")");
                } catch (RuntimeException refusedOnCpu) {
                    // not an op of this dtype
                }
            }
        }
        assertTrue(missing.isEmpty(), "CUDA kernels missing: " + missing);
    }

    @Test
    void everyBinaryOpTheCpuRunsHasItsKernelForEachDtype() throws Exception {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> missing = new ArrayList<>();
        List<BinaryOp> ops = declared(BinaryOps.class, BinaryOp.class);
        ops.add(BinaryOps.addScaled(-0.25));
        for (BinaryOp op : ops) {
            for (DType in : DType.values()) {
                if (refusedForBool(op.name(), in)) continue;
                try (Tensor a = Tensor.ones(in, 2); Tensor b = Tensor.ones(in, 2); Tensor y = Elementwise.binary(a, b, op, null)) {
                    String name = CudaOps.binaryKernel(op, op.computeType(in));
                    if (!CudaKernels.exists(name)) missing.add(name + " (for " + in + ")");
                } catch (RuntimeException refusedOnCpu) {
                    // not an op of this dtype
                }
            }
        }
        assertTrue(missing.isEmpty(), "CUDA kernels missing: " + missing);
    }

    @Test
    void everyCastAndWhereHasItsKernel() {
        assumeTrue(KernelImages.isBuilt(), KernelImages::notBuiltReason);
        List<String> missing = new ArrayList<>();
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                if (from != to && !CudaKernels.exists(CudaOps.castKernel(from, to))) missing.add(CudaOps.castKernel(from, to));
            }
            String where = "ember_ternary_where_" + CudaOps.suffix(from);
            if (!CudaKernels.exists(where)) missing.add(where);
            String copy = "ember_strided_copy_" + from.itemSize();
            if (!CudaKernels.exists(copy)) missing.add(copy);
        }
        assertTrue(missing.isEmpty(), "CUDA kernels missing: " + missing);
    }

    /** neg and sub of bool tensors are refused by Tensor itself (PyTorch's message), before any backend. */
    private static boolean refusedForBool(String op, DType in) {
        return in == DType.BOOL && (op.equals("neg") || op.equals("sub"));
    }

    /** The public static final declarations of type {@code type} in {@code holder}. */
    private static <T> List<T> declared(Class<?> holder, Class<T> type) throws IllegalAccessException {
        List<T> out = new ArrayList<>();
        for (Field f : holder.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) && f.getType() == type) {
                f.setAccessible(true);
                out.add(type.cast(f.get(null)));
            }
        }
        return out;
    }
}

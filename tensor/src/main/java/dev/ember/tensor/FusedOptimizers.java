package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuSgd;
import dev.ember.tensor.cuda.CudaKernels;
import dev.ember.tensor.cuda.OptimizerTable;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The optimizers' fused CUDA steps: SGD and Adam/AdamW over all parameters in one launch per
 * (device, dtype), from a table of records (see {@link OptimizerTable} and optim.cu) copied to
 * the device with one host-to-device copy. The optimizers in nn.optim decide the update's
 * options and state; this class only checks that the tensors fit the kernel's contract, lays
 * out the table and launches. Each updated tensor's version is bumped as an in-place op's is.
 */
public final class FusedOptimizers {
    private FusedOptimizers() {}

    /** One parameter's SGD update; {@code momentumBuffer} is null when momentum is 0. */
    public record Sgd(Tensor param, Tensor grad, Tensor momentumBuffer, double lr, double momentum, double dampening,
            double weightDecay, boolean nesterov, boolean maximize, boolean firstStep) {}

    /** One parameter's Adam/AdamW update; {@code maxExpAvgSq} is null without amsgrad. */
    public record Adam(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, double lr,
            double beta1, double beta2, double eps, double weightDecay, double stepSize, double biasCorrection2Sqrt,
            boolean decoupled, boolean maximize, boolean amsgrad) {}

    /**
     * Whether a parameter and its gradient (and state, made like the parameter) can go through
     * a fused step: both contiguous on one device, of one floating dtype, and distinct; on the
     * CPU only float32, and only SGD has a fused CPU step ({@link CpuSgd}), so Adam's fused
     * step is taken for CUDA parameters alone.
     */
    public static boolean fits(Tensor param, Tensor grad) {
        return (param.isCuda() || param.dtype == DType.FLOAT32) && grad.device().equals(param.device())
                && param.dtype == grad.dtype && param.dtype.isFloatingPoint() && param.isContiguous() && grad.isContiguous()
                && grad.numel() == param.numel() && !grad.sharesStorageWith(param);
    }

    /** Whether an optimizer state buffer can go with its parameter through a fused kernel. */
    public static boolean fitsState(Tensor param, Tensor state) {
        return state.device().equals(param.device()) && state.dtype == param.dtype && state.isContiguous()
                && state.numel() == param.numel();
    }

    /** Runs every SGD update; all of them must {@link #fits fit}. CPU parameters are updated here, one by one. */
    public static void sgd(List<Sgd> updates) {
        List<Sgd> onCuda = new ArrayList<>(updates.size());
        for (Sgd u : updates) {
            if (u.param.isCuda()) {
                onCuda.add(u);
            } else {
                cpuSgd(u);
            }
        }
        if (onCuda.isEmpty()) return;
        launchGrouped(onCuda, Sgd::param, OptimizerTable.SGD_RECORD_BYTES, "ember_optim_sgd_", OptimizerTable::sgd,
                (table, u) -> table.addSgd(CudaOps.address(u.param), CudaOps.address(u.grad),
                        u.momentumBuffer == null ? 0 : CudaOps.address(checkState(u.param, u.momentumBuffer)),
                        u.param.numel(), u.lr, u.momentum, u.dampening, u.weightDecay, u.nesterov, u.maximize,
                        u.firstStep));
    }

    private static void cpuSgd(Sgd u) {
        Tensor p = u.param, g = u.grad, buf = u.momentumBuffer == null ? null : checkState(p, u.momentumBuffer);
        if (!fits(p, g)) { // the caller's promise, checked: a stride or size it does not expect would write out of bounds
            throw new IllegalArgumentException("the fused CPU SGD step takes a contiguous float32 parameter and a distinct gradient"
                    + " of its dtype and size, got " + p.dtype + Shapes.format(p.shape) + " and " + g.dtype + Shapes.format(g.shape));
        }
        CpuSgd.Options o = new CpuSgd.Options((float) -u.lr, (float) u.momentum, (float) (1 - u.dampening),
                (float) u.weightDecay, u.nesterov, u.maximize);
        long bytes = Float.BYTES;
        CpuSgd.step(o, p.numel(), p.data(), p.offset * bytes, g.data(), g.offset * bytes,
                buf == null ? null : buf.data(), buf == null ? 0 : buf.offset * bytes, u.firstStep);
        p.bumpVersion();
    }

    /** Runs every Adam/AdamW update; all of them must {@link #fits fit} and be on CUDA. */
    public static void adam(List<Adam> updates) {
        launchGrouped(updates, Adam::param, OptimizerTable.ADAM_RECORD_BYTES, "ember_optim_adam_", OptimizerTable::adam,
                (table, u) -> table.addAdam(CudaOps.address(u.param), CudaOps.address(u.grad),
                        CudaOps.address(checkState(u.param, u.expAvg)), CudaOps.address(checkState(u.param, u.expAvgSq)),
                        u.maxExpAvgSq == null ? 0 : CudaOps.address(checkState(u.param, u.maxExpAvgSq)),
                        u.param.numel(), u.lr, u.beta1, u.beta2, u.eps, u.weightDecay, u.stepSize,
                        u.biasCorrection2Sqrt, u.decoupled, u.maximize, u.amsgrad));
    }

    private interface RecordWriter<U> {
        void write(OptimizerTable table, U update);
    }

    private record Key(Device device, DType dtype) {}

    /** One table and one launch per (device, dtype): a kernel is compiled for one dtype. */
    private static <U> void launchGrouped(List<U> updates, Function<U, Tensor> paramOf, int recordBytes, String kernel,
            Function<MemorySegment, OptimizerTable> tableOf, RecordWriter<U> writer) {
        Map<Key, List<U>> groups = new LinkedHashMap<>();
        for (U u : updates) {
            Tensor p = paramOf.apply(u);
            groups.computeIfAbsent(new Key(p.device(), p.dtype), k -> new ArrayList<>()).add(u);
        }
        for (var e : groups.entrySet()) {
            Key key = e.getKey();
            List<U> group = e.getValue();
            try (Tensor host = Tensor.empty(DType.UINT8, (long) recordBytes * group.size())) {
                OptimizerTable table = tableOf.apply(host.data()); // host memory is 64-byte aligned
                for (U u : group) writer.write(table, u);
                if (table.totalChunks() > 0) launch(key, kernel, table, host);
            }
            for (U u : group) paramOf.apply(u).bumpVersion();
        }
    }

    private static void launch(Key key, String kernel, OptimizerTable table, Tensor host) {
        // the table's device copy is freed stream-ordered, after the launch that reads it has run
        try (LaunchScratch arena = LaunchScratch.open();
             Tensor deviceTable = Tensor.empty(key.device, DType.UINT8, host.numel())) {
            CudaOps.upload(deviceTable, host);
            KernelArgs args = new KernelArgs(arena).addPointer(CudaOps.address(deviceTable)).addInt(table.records())
                    .addLong(table.totalChunks()).addLong(OptimizerTable.CHUNK_ELEMS);
            int grid = (int) Math.min(table.totalChunks(), 1 << 20); // the kernel loops over chunks beyond the grid
            CudaKernels.of(key.device).launch(kernel + CudaOps.suffix(key.dtype), grid, CudaKernels.BLOCK, 0,
                    CudaOps.stream(key.device), args);
        }
    }

    private static Tensor checkState(Tensor param, Tensor state) {
        if (!fitsState(param, state)) {
            throw new IllegalArgumentException("optimizer state " + state.dtype + Shapes.format(state.shape) + " on "
                    + state.device() + " does not match its parameter " + param.dtype + Shapes.format(param.shape) + " on "
                    + param.device() + " (it must be contiguous, of the parameter's dtype, device and size)");
        }
        return state;
    }
}

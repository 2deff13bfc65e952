package dev.ember.tensor;

import dev.ember.ffi.LaunchScratch;
import dev.ember.ffi.CudaDriver;
import dev.ember.ffi.KernelArgs;
import dev.ember.memory.Device;
import dev.ember.memory.Event;
import dev.ember.memory.Stream;
import dev.ember.tensor.cuda.CudaKernels;
import dev.ember.tensor.cuda.CudaLayout;

/**
 * The CUDA side of the ops that {@link Tensor} and {@link Elementwise} run: copies within a
 * device and across the host boundary, fill, and the elementwise kernels. Every launch goes on
 * the current stream of the tensors' device, so ops are asynchronous; only reading values back
 * to the host waits, and only for that stream. Kernels are found by name from the op's one
 * declaration ({@code ember_unary_<op>_<dtype>} etc., see native-kernels/src/main/cuda).
 */
final class CudaOps {
    private CudaOps() {}

    /** The dtype suffix of kernel names (ember_dtypes.cuh). */
    static String suffix(DType t) {
        return switch (t) {
            case FLOAT32 -> "f32";
            case FLOAT64 -> "f64";
            case FLOAT16 -> "f16";
            case BFLOAT16 -> "bf16";
            case INT32 -> "i32";
            case INT64 -> "i64";
            case UINT8 -> "u8";
            case BOOL -> "b8";
        };
    }

    static String unaryKernel(UnaryOp op, DType t) { return "ember_unary_" + op.name() + "_" + suffix(t); }

    static String binaryKernel(BinaryOp op, DType t) { return "ember_binary_" + op.name() + "_" + suffix(t); }

    static String castKernel(DType from, DType to) { return "ember_cast_" + suffix(from) + "_" + suffix(to); }

    /** Device address of a tensor's element 0. */
    static long address(Tensor t) {
        return t.storage.deviceAddress() + t.offset * t.dtype.itemSize();
    }

    /** The current stream of a CUDA device, with the device's context made current on this thread. */
    static Stream stream(Device d) {
        CudaDriver.ensureContext(d.index());
        return Stream.current(d);
    }

    /** dst = src (broadcast to dst's shape, converted to dst's dtype); both on the same CUDA device. */
    static void copy(Tensor dst, Tensor src, long[] srcStrides) {
        Device d = dst.device();
        CudaLayout layout = CudaLayout.of(dst.shape, dst.strides, srcStrides);
        if (layout.numel() == 0) return;
        CudaKernels k = CudaKernels.of(d);
        try (LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(address(dst)).addPointer(address(src));
            String name;
            if (dst.dtype == src.dtype) { // bits move: the strided copy of the element's width
                name = "ember_strided_copy_" + dst.dtype.itemSize();
                args.addStruct(layout.toCopyStruct(arena), 8);
            } else {
                name = castKernel(src.dtype, dst.dtype);
                args.addStruct(layout.toStruct(arena), 8);
            }
            k.launch(name, k.gridFor(layout.numel()), CudaKernels.BLOCK, 0, stream(d), args);
        }
    }

    /**
     * Copies a contiguous host tensor into a contiguous device tensor of the same dtype and size.
     * From pageable memory the driver stages the bytes before returning, so src may be freed
     * after; from pinned memory the copy is only queued, and the pinned block is kept from reuse
     * until the stream has run it.
     */
    static void upload(Tensor dst, Tensor src) {
        long bytes = src.numel() * src.dtype.itemSize();
        if (bytes == 0) return;
        Stream s = stream(dst.device());
        CudaDriver.memcpyHtoDAsync(address(dst), src.data().asSlice(src.offset * src.dtype.itemSize(), bytes), bytes,
                s.handle());
        if (src.storage.isPinned()) src.storage.pinnedBlock().recordStream(s);
    }

    /**
     * Queues a copy of a contiguous device tensor into a contiguous pinned host tensor and
     * returns at once; host reads of dst wait for the copy (an event recorded after it).
     */
    static void downloadAsync(Tensor dst, Tensor src) {
        long bytes = src.numel() * src.dtype.itemSize();
        if (bytes == 0) return;
        Stream s = stream(src.device());
        CudaDriver.memcpyDtoHAsync(dst.storage.pinnedBlock().segment().asSlice(dst.offset * dst.dtype.itemSize(), bytes),
                address(src), bytes, s.handle());
        dst.storage.pinnedBlock().recordStream(s);
        Event done = Event.create(src.device());
        done.record(s);
        dst.storage.setPendingCopy(done);
    }

    /** Copies a contiguous device tensor into a contiguous host tensor and waits for that stream only. */
    static void download(Tensor dst, Tensor src) {
        long bytes = src.numel() * src.dtype.itemSize();
        if (bytes == 0) return;
        Stream s = stream(src.device());
        CudaDriver.memcpyDtoHAsync(dst.data().asSlice(dst.offset * dst.dtype.itemSize(), bytes), address(src), bytes, s.handle());
        s.synchronize();
    }

    /** out = op(x) elementwise; x already has the kernel's dtype {@code t}. */
    static void unary(UnaryOp op, DType t, Tensor out, Tensor x, double p0, double p1) {
        launchElementwise(unaryKernel(op, t), out, new Tensor[] {x}, new long[][] {x.strides}, p0, p1);
    }

    /** out = a (op) b with broadcasting; the operands already have the kernel's dtype {@code t}. */
    static void binary(BinaryOp op, DType t, Tensor out, Tensor a, long[] aStrides, Tensor b, long[] bStrides, double alpha) {
        launchElementwise(binaryKernel(op, t), out, new Tensor[] {a, b}, new long[][] {aStrides, bStrides}, alpha, 0);
    }

    /** out = cond ? a : b; cond is bool, a and b have out's dtype. */
    static void where(Tensor out, Tensor cond, long[] cStrides, Tensor a, long[] aStrides, Tensor b, long[] bStrides) {
        launchElementwise("ember_ternary_where_" + suffix(out.dtype), out, new Tensor[] {cond, a, b},
                new long[][] {cStrides, aStrides, bStrides}, 0, 0);
    }

    /**
     * One elementwise launch over out's shape. Unary kernels take two double parameters
     * (p0, p1); binary and ternary kernels take one (p0), so p1 is passed only for one input.
     */
    private static void launchElementwise(String kernel, Tensor out, Tensor[] in, long[][] inStrides, double p0, double p1) {
        long[][] strides = new long[in.length + 1][];
        strides[0] = out.strides;
        System.arraycopy(inStrides, 0, strides, 1, in.length);
        CudaLayout layout = CudaLayout.of(out.shape, strides);
        if (layout.numel() == 0) return;
        Device d = out.device();
        CudaKernels k = CudaKernels.of(d);
        try (LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(address(out));
            for (Tensor t : in) args.addPointer(address(t));
            args.addStruct(layout.toStruct(arena), 8).addDouble(p0);
            if (in.length == 1) args.addDouble(p1);
            k.launch(kernel, k.gridFor(layout.numel()), CudaKernels.BLOCK, 0, stream(d), args);
        }
    }

    /** Sets every element of a contiguous device tensor to {@code value} (converted to its dtype). */
    static void fill(Tensor t, double value) {
        long n = t.numel();
        if (n == 0) return;
        Device d = t.device();
        CudaKernels k = CudaKernels.of(d);
        try (LaunchScratch arena = LaunchScratch.open()) {
            KernelArgs args = new KernelArgs(arena).addPointer(address(t));
            String name = switch (t.dtype) {
                case FLOAT32 -> { args.addFloat((float) value); yield "ember_fill_f32"; }
                case FLOAT64 -> { args.addDouble(value); yield "ember_fill_f64"; }
                case INT32 -> { args.addInt((int) (long) value); yield "ember_fill_i32"; }
                case INT64 -> { args.addLong((long) value); yield "ember_fill_i64"; }
                case UINT8 -> { args.addByte((byte) (long) value); yield "ember_fill_u8"; }
                case BOOL -> { args.addByte((byte) (value != 0 || Double.isNaN(value) ? 1 : 0)); yield "ember_fill_u8"; }
                case FLOAT16 -> { args.addShort(Float.floatToFloat16((float) value)); yield "ember_fill_f16"; }
                case BFLOAT16 -> { args.addShort(bfloat16Bits(value)); yield "ember_fill_bf16"; }
            };
            args.addLong(n);
            k.launch(name, k.gridFor(n), CudaKernels.BLOCK, 0, stream(d), args);
        }
    }

    /** The bfloat16 bits of a value, rounded to nearest even as the CPU's conversion. */
    private static short bfloat16Bits(double value) {
        try (Tensor one = Tensor.full0d(DType.BFLOAT16, value)) {
            return one.data().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0);
        }
    }
}

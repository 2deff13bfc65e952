package dev.ember.tensor;

import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuElementwise;
import dev.ember.tensor.cpu.Strided;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * cat and stack (copies into a new tensor of the promoted dtype), split and chunk (views that
 * share the input's storage), with PyTorch's checks and messages.
 */
final class Joining {
    private Joining() {}

    static Tensor cat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("torch.cat(): expected a non-empty list of Tensors");
        DType type = null;
        Tensor ref = null; // the first tensor that takes part: its rank and sizes are the ones to match
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i).checkOpen();
            if (t.dim() == 0) {
                throw new IllegalArgumentException("zero-dimensional tensor (at position " + i + ") cannot be concatenated");
            }
            type = type == null ? t.dtype : DType.promote(type, t.dtype);
            if (ref == null && !isLegacyEmpty(t)) ref = t;
        }
        if (ref == null) return Tensor.empty(type, 0);
        int d = Shapes.wrapDim(dim, ref.dim());
        long total = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (isLegacyEmpty(t)) continue;
            if (t.dim() != ref.dim()) {
                throw new IllegalArgumentException("Tensors must have same number of dimensions: got " + ref.dim() + " and "
                        + t.dim() + " (tensor number " + i + " in the list has shape " + Shapes.format(t.shape) + ")");
            }
            for (int j = 0; j < t.dim(); j++) {
                if (j != d && t.shape[j] != ref.shape[j]) {
                    throw new IllegalArgumentException("Sizes of tensors must match except in dimension " + d + ". Expected size "
                            + ref.shape[j] + " but got size " + t.shape[j] + " for tensor number " + i + " in the list.");
                }
            }
            total = Math.addExact(total, t.shape[d]);
        }
        long[] shape = ref.shape.clone();
        shape[d] = total;
        Tensor out = Tensor.empty(Elementwise.commonDevice(tensors.toArray(Tensor[]::new)), type, shape);
        long start = 0;
        for (Tensor t : tensors) {
            if (isLegacyEmpty(t)) continue;
            copyInto(out, start * out.strides[d], out.strides, t);
            start += t.shape[d];
        }
        return out;
    }

    /** A 1-D tensor of size 0, which cat skips whatever the other shapes, as PyTorch still does for old code. */
    private static boolean isLegacyEmpty(Tensor t) {
        return t.dim() == 1 && t.shape[0] == 0;
    }

    static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack expects a non-empty TensorList");
        Tensor first = tensors.get(0).checkOpen();
        DType type = first.dtype;
        for (int i = 1; i < tensors.size(); i++) {
            Tensor t = tensors.get(i).checkOpen();
            if (!Arrays.equals(t.shape, first.shape)) {
                throw new IllegalArgumentException("stack expects each tensor to be equal size, but got "
                        + Shapes.format(first.shape) + " at entry 0 and " + Shapes.format(t.shape) + " at entry " + i);
            }
            type = DType.promote(type, t.dtype);
        }
        int d = Shapes.wrapDim(dim, first.dim() + 1);
        Device device = Elementwise.commonDevice(tensors.toArray(Tensor[]::new));
        Tensor out = Tensor.empty(device, type, Views.insert(first.shape, d, tensors.size()));
        long[] slab = Views.remove(out.strides, d);
        for (int i = 0; i < tensors.size(); i++) copyInto(out, i * out.strides[d], slab, tensors.get(i));
        return out;
    }

    /**
     * Copies {@code src} (converting its dtype) into the part of {@code out} at {@code offset} with
     * {@code strides}, on the host or on out's CUDA device.
     */
    private static void copyInto(Tensor out, long offset, long[] strides, Tensor src) {
        if (out.device().isCpu()) {
            CpuElementwise.copy(src.shape, new Strided(out.data(), out.dtype, out.offset + offset, strides), src.operand());
            return;
        }
        try (Tensor part = out.alias(src.shape.clone(), strides, out.offset + offset)) {
            Tensor.copyElements(part, src, src.strides);
        }
    }

    static List<Tensor> split(Tensor t, long splitSize, int dim) {
        t.checkOpen();
        if (t.dim() == 0) throw new IllegalArgumentException("split expects at least a 1-dimensional tensor");
        if (splitSize < 0) {
            throw new IllegalArgumentException("split expects split_size be non-negative, but got split_size=" + splitSize);
        }
        int d = Shapes.wrapDim(dim, t.dim());
        long size = t.shape[d];
        if (splitSize == 0 && size != 0) {
            throw new IllegalArgumentException("split_size can only be 0 if dimension size is 0, but got dimension size of " + size);
        }
        // an empty dim still gives one (empty) piece
        long pieces = splitSize == 0 ? 1 : Math.max(1, Math.ceilDiv(size, splitSize));
        long[] sizes = new long[Math.toIntExact(pieces)];
        for (int i = 0; i < sizes.length; i++) sizes[i] = Math.min(splitSize, size - i * splitSize);
        return views(t, d, sizes);
    }

    static List<Tensor> split(Tensor t, long[] sizes, int dim) {
        t.checkOpen();
        if (t.dim() == 0) throw new IllegalArgumentException("split expects at least a 1-dimensional tensor");
        int d = Shapes.wrapDim(dim, t.dim());
        long sum = 0;
        for (long s : sizes) {
            if (s < 0) {
                throw new IllegalArgumentException("split_with_sizes expects split_sizes have only non-negative entries, but got"
                        + " split_sizes=" + Arrays.toString(sizes));
            }
            sum = Math.addExact(sum, s);
        }
        if (sum != t.shape[d]) {
            throw new IllegalArgumentException("split_with_sizes expects split_sizes to sum exactly to " + t.shape[d]
                    + " (input tensor's size at dimension " + d + "), but got split_sizes=" + Arrays.toString(sizes));
        }
        return views(t, d, sizes);
    }

    /** {@code chunks} views of ceil(size / chunks) elements along dim: fewer when that covers the dim sooner, as PyTorch. */
    static List<Tensor> chunk(Tensor t, int chunks, int dim) {
        t.checkOpen();
        if (t.dim() == 0) throw new IllegalArgumentException("chunk expects at least a 1-dimensional tensor");
        if (chunks <= 0) throw new IllegalArgumentException("chunk expects `chunks` to be greater than 0, got: " + chunks);
        int d = Shapes.wrapDim(dim, t.dim());
        long size = t.shape[d];
        // an empty dim still gives `chunks` empty views, where split would give one
        if (size == 0) return views(t, d, new long[chunks]);
        return split(t, Math.ceilDiv(size, chunks), d);
    }

    /** Consecutive narrow views of {@code sizes} along {@code d}, which sum to its size. */
    private static List<Tensor> views(Tensor t, int d, long[] sizes) {
        List<Tensor> out = new ArrayList<>(sizes.length);
        long start = 0;
        for (long s : sizes) {
            out.add(t.narrow(d, start, s));
            start += s;
        }
        return List.copyOf(out);
    }
}

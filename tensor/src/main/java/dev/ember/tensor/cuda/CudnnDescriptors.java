package dev.ember.tensor.cuda;

import dev.ember.ffi.Cudnn;
import dev.ember.tensor.DType;
import dev.ember.tensor.cpu.CpuConvGeometry;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The cuDNN descriptors of one call, destroyed together when it is closed (use
 * try-with-resources), plus the pure functions that turn Ember's shapes and dtypes into what
 * the descriptors hold. Those functions touch no library, so they are checked on any machine.
 *
 * <p>Every tensor handed to cuDNN is packed NCHW (the callers make operands contiguous first):
 * a 3-D [C, H, W] input is one image, [1, C, H, W]; batch norm's [N, C, ...] of any rank is
 * [N, C, S, 1] with S the product of the trailing dims, which leaves the per-channel
 * statistics unchanged. cuDNN's legacy API takes {@code int} sizes, so a dimension of 2^31 or
 * more fails with a message rather than wrapping.
 */
public final class CudnnDescriptors implements AutoCloseable {
    private final ArrayDeque<Runnable> destroyers = new ArrayDeque<>();

    // ---------------------------------------------------------------- pure mappings

    /** cuDNN's data type for a floating dtype. */
    public static int dataType(DType t) {
        return switch (t) {
            case FLOAT32 -> Cudnn.DATA_FLOAT;
            case FLOAT64 -> Cudnn.DATA_DOUBLE;
            case FLOAT16 -> Cudnn.DATA_HALF;
            case BFLOAT16 -> Cudnn.DATA_BFLOAT16;
            default -> throw new IllegalArgumentException("cuDNN ops take floating tensors, not " + t);
        };
    }

    /** The accumulation type of a convolution: double for double data, float otherwise (half and bfloat16 included). */
    public static int computeType(DType t) {
        dataType(t);
        return t == DType.FLOAT64 ? Cudnn.DATA_DOUBLE : Cudnn.DATA_FLOAT;
    }

    /** The dtype of batch norm's per-channel tensors (scale, bias, statistics) for data of dtype t, as cuDNN derives it. */
    public static DType parameterType(DType t) {
        dataType(t);
        return t == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
    }

    /**
     * The math a convolution may use, as PyTorch sets it: tensor cores for float16 and
     * bfloat16; for float32 the default (which lets cuDNN round to TF32 on Ampere and later)
     * when TF32 is allowed, else FMA only; the default for float64.
     */
    public static int convolutionMath(DType t, boolean allowTf32) {
        return switch (t) {
            case FLOAT16, BFLOAT16 -> Cudnn.TENSOR_OP_MATH;
            case FLOAT32 -> allowTf32 ? Cudnn.DEFAULT_MATH : Cudnn.FMA_MATH;
            case FLOAT64 -> Cudnn.DEFAULT_MATH;
            default -> throw new IllegalArgumentException("cuDNN convolutions take floating tensors, not " + t);
        };
    }

    /** {N, C, H, W} of a 4-D shape, or {1, C, H, W} of a 3-D (unbatched) one. */
    public static int[] nchw(long[] shape) {
        if (shape.length == 4) return ints(shape, shape);
        if (shape.length == 3) return ints(new long[] {1, shape[0], shape[1], shape[2]}, shape);
        throw new IllegalArgumentException("cuDNN images are 3-D or 4-D, not " + Arrays.toString(shape));
    }

    /** {N, C, S, 1} of an [N, C, ...] shape of rank 2 or more, S the product of the dims after C (1 for none). */
    public static int[] perChannel(long[] shape) {
        if (shape.length < 2) throw new IllegalArgumentException("batch norm needs [N, C, ...], not " + Arrays.toString(shape));
        long s = 1;
        for (int d = 2; d < shape.length; d++) s = Math.multiplyExact(s, shape[d]);
        return ints(new long[] {shape[0], shape[1], s, 1}, shape);
    }

    private static int[] ints(long[] dims, long[] original) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("cuDNN takes sizes below 2^31, but a tensor of size "
                        + Arrays.toString(original) + " needs a dimension of " + dims[i]);
            }
            out[i] = (int) dims[i];
        }
        return out;
    }

    // ---------------------------------------------------------------- descriptors

    /** A packed NCHW tensor descriptor of dtype t and sizes {n, c, h, w}. */
    public long tensor(DType t, int[] nchw) {
        long desc = Cudnn.createTensorDescriptor();
        destroyers.push(() -> Cudnn.destroyTensorDescriptor(desc));
        Cudnn.setTensor4dDescriptor(desc, Cudnn.TENSOR_NCHW, dataType(t), nchw[0], nchw[1], nchw[2], nchw[3]);
        return desc;
    }

    /** The filter of a convolution: [outChannels, inChannels / groups, kernelH, kernelW], packed. */
    public long filter(DType t, CpuConvGeometry g) {
        long desc = Cudnn.createFilterDescriptor();
        destroyers.push(() -> Cudnn.destroyFilterDescriptor(desc));
        Cudnn.setFilter4dDescriptor(desc, dataType(t), Cudnn.TENSOR_NCHW, g.outChannels(), g.groupInChannels(),
                g.kernelH(), g.kernelW());
        return desc;
    }

    /** A cross-correlation (what frameworks call convolution) with g's padding, stride, dilation and groups. */
    public long convolution(CpuConvGeometry g, DType t, int mathType) {
        long desc = Cudnn.createConvolutionDescriptor();
        destroyers.push(() -> Cudnn.destroyConvolutionDescriptor(desc));
        Cudnn.setConvolution2dDescriptor(desc, g.padH(), g.padW(), g.strideH(), g.strideW(), g.dilationH(), g.dilationW(),
                Cudnn.CROSS_CORRELATION, computeType(t));
        Cudnn.setConvolutionGroupCount(desc, g.groups());
        Cudnn.setConvolutionMathType(desc, mathType);
        return desc;
    }

    /** A 2-D pooling: mode, window, symmetric padding and stride, each as {height, width}; NaN propagates, as on the CPU. */
    public long pooling(int mode, int[] window, int[] padding, int[] stride) {
        long desc = Cudnn.createPoolingDescriptor();
        destroyers.push(() -> Cudnn.destroyPoolingDescriptor(desc));
        Cudnn.setPooling2dDescriptor(desc, mode, Cudnn.PROPAGATE_NAN, window[0], window[1], padding[0], padding[1],
                stride[0], stride[1]);
        return desc;
    }

    /** The [1, C, 1, 1] descriptor of spatial batch norm's per-channel tensors for data described by xDesc. */
    public long batchNormParameters(long xDesc) {
        long desc = Cudnn.createTensorDescriptor();
        destroyers.push(() -> Cudnn.destroyTensorDescriptor(desc));
        Cudnn.deriveBNTensorDescriptor(desc, xDesc, Cudnn.BATCHNORM_SPATIAL);
        return desc;
    }

    /** Destroys every descriptor made here, newest first; the first failure is thrown after all were tried. */
    @Override
    public void close() {
        RuntimeException first = null;
        while (!destroyers.isEmpty()) {
            try {
                destroyers.pop().run();
            } catch (RuntimeException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}

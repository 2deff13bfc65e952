package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cuDNN 9 through its descriptor API, as static methods. Handles, descriptors and device
 * buffers are {@code long}s.
 *
 * <p>Scaling factors ({@code alpha}, {@code beta}) follow cuDNN's rule: they are read as
 * {@code double} when the operation's data is {@link #DATA_DOUBLE} and as {@code float}
 * otherwise. This class remembers the data type of every tensor descriptor set through it
 * and passes the factors accordingly, so callers always give plain doubles.
 *
 * <p>A handle belongs to the context current when it was created (see
 * {@link CudaDriver#ensureContext(int)}). Every status is checked; failures throw
 * {@link CudaException} with cuDNN's status name and its last error message.
 */
public final class Cudnn {

    /** CUDNN_STATUS_SUCCESS. */
    public static final int STATUS_SUCCESS = 0;

    /** cudnnDataType_t CUDNN_DATA_FLOAT. */
    public static final int DATA_FLOAT = 0;
    /** cudnnDataType_t CUDNN_DATA_DOUBLE. */
    public static final int DATA_DOUBLE = 1;
    /** cudnnDataType_t CUDNN_DATA_HALF. */
    public static final int DATA_HALF = 2;
    /** cudnnDataType_t CUDNN_DATA_INT8. */
    public static final int DATA_INT8 = 3;
    /** cudnnDataType_t CUDNN_DATA_INT32. */
    public static final int DATA_INT32 = 4;
    /** cudnnDataType_t CUDNN_DATA_UINT8. */
    public static final int DATA_UINT8 = 6;
    /** cudnnDataType_t CUDNN_DATA_BFLOAT16. */
    public static final int DATA_BFLOAT16 = 9;
    /** cudnnDataType_t CUDNN_DATA_INT64. */
    public static final int DATA_INT64 = 10;

    /** cudnnTensorFormat_t CUDNN_TENSOR_NCHW. */
    public static final int TENSOR_NCHW = 0;
    /** cudnnTensorFormat_t CUDNN_TENSOR_NHWC. */
    public static final int TENSOR_NHWC = 1;

    /** cudnnConvolutionMode_t CUDNN_CONVOLUTION: the filter is flipped (true convolution). */
    public static final int CONVOLUTION = 0;
    /** cudnnConvolutionMode_t CUDNN_CROSS_CORRELATION: no flip, what deep-learning frameworks call convolution. */
    public static final int CROSS_CORRELATION = 1;

    /** cudnnMathType_t CUDNN_DEFAULT_MATH. */
    public static final int DEFAULT_MATH = 0;
    /** cudnnMathType_t CUDNN_TENSOR_OP_MATH. */
    public static final int TENSOR_OP_MATH = 1;
    /** cudnnMathType_t CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION. */
    public static final int TENSOR_OP_MATH_ALLOW_CONVERSION = 2;
    /** cudnnMathType_t CUDNN_FMA_MATH: no tensor cores. */
    public static final int FMA_MATH = 3;

    /** cudnnNanPropagation_t CUDNN_NOT_PROPAGATE_NAN. */
    public static final int NOT_PROPAGATE_NAN = 0;
    /** cudnnNanPropagation_t CUDNN_PROPAGATE_NAN. */
    public static final int PROPAGATE_NAN = 1;

    /** cudnnPoolingMode_t CUDNN_POOLING_MAX. */
    public static final int POOLING_MAX = 0;
    /** cudnnPoolingMode_t CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING. */
    public static final int POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1;
    /** cudnnPoolingMode_t CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING. */
    public static final int POOLING_AVERAGE_COUNT_EXCLUDE_PADDING = 2;
    /** cudnnPoolingMode_t CUDNN_POOLING_MAX_DETERMINISTIC. */
    public static final int POOLING_MAX_DETERMINISTIC = 3;

    /** cudnnActivationMode_t CUDNN_ACTIVATION_SIGMOID. */
    public static final int ACTIVATION_SIGMOID = 0;
    /** cudnnActivationMode_t CUDNN_ACTIVATION_RELU. */
    public static final int ACTIVATION_RELU = 1;
    /** cudnnActivationMode_t CUDNN_ACTIVATION_TANH. */
    public static final int ACTIVATION_TANH = 2;
    /** cudnnActivationMode_t CUDNN_ACTIVATION_CLIPPED_RELU (coef is the ceiling). */
    public static final int ACTIVATION_CLIPPED_RELU = 3;
    /** cudnnActivationMode_t CUDNN_ACTIVATION_ELU (coef is alpha). */
    public static final int ACTIVATION_ELU = 4;
    /** cudnnActivationMode_t CUDNN_ACTIVATION_IDENTITY. */
    public static final int ACTIVATION_IDENTITY = 5;
    /** cudnnActivationMode_t CUDNN_ACTIVATION_SWISH. */
    public static final int ACTIVATION_SWISH = 6;

    /** cudnnSoftmaxAlgorithm_t CUDNN_SOFTMAX_FAST. */
    public static final int SOFTMAX_FAST = 0;
    /** cudnnSoftmaxAlgorithm_t CUDNN_SOFTMAX_ACCURATE: subtracts the maximum first. */
    public static final int SOFTMAX_ACCURATE = 1;
    /** cudnnSoftmaxAlgorithm_t CUDNN_SOFTMAX_LOG: log-softmax. */
    public static final int SOFTMAX_LOG = 2;
    /** cudnnSoftmaxMode_t CUDNN_SOFTMAX_MODE_INSTANCE: over C, H and W of each image. */
    public static final int SOFTMAX_MODE_INSTANCE = 0;
    /** cudnnSoftmaxMode_t CUDNN_SOFTMAX_MODE_CHANNEL: over C at each (n, h, w). */
    public static final int SOFTMAX_MODE_CHANNEL = 1;

    /** cudnnBatchNormMode_t CUDNN_BATCHNORM_PER_ACTIVATION: statistics per (c, h, w). */
    public static final int BATCHNORM_PER_ACTIVATION = 0;
    /** cudnnBatchNormMode_t CUDNN_BATCHNORM_SPATIAL: statistics per channel, as in BatchNorm2d. */
    public static final int BATCHNORM_SPATIAL = 1;
    /** cudnnBatchNormMode_t CUDNN_BATCHNORM_SPATIAL_PERSISTENT. */
    public static final int BATCHNORM_SPATIAL_PERSISTENT = 2;

    /** cudnnConvolutionFwdAlgoPerf_t (and the BwdData/BwdFilter twins, which share its layout). */
    static final StructLayout ALGO_PERF = MemoryLayout.structLayout(
            JAVA_INT.withName("algo"),
            JAVA_INT.withName("status"),
            JAVA_FLOAT.withName("time"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("memory"),
            JAVA_INT.withName("determinism"),
            JAVA_INT.withName("mathType"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("reserved"),
            MemoryLayout.paddingLayout(4));

    private static final int ERROR_MESSAGE_BYTES = 1024;

    /** Data type of each live tensor descriptor set through this class, for the alpha/beta rule. */
    private static final ConcurrentHashMap<Long, Integer> TENSOR_TYPES = new ConcurrentHashMap<>();

    private Cudnn() {
    }

    /**
     * One candidate algorithm from an algorithm search.
     *
     * @param algo           the algorithm, to pass to the convolution and workspace calls
     * @param status         {@link #STATUS_SUCCESS} if it can run this problem
     * @param timeMs         measured time (find) or -1 (heuristics)
     * @param workspaceBytes the workspace it needs
     * @param deterministic  whether it gives bit-identical results run to run
     * @param mathType       the math type it uses, which the convolution descriptor must allow
     */
    public record AlgorithmPerf(int algo, int status, float timeMs, long workspaceBytes, boolean deterministic,
                                int mathType) {
    }

    private static final class H {
        static final MethodHandle cudnnGetVersion = bind(CudnnFunctions.cudnnGetVersion);
        static final MethodHandle cudnnGetErrorString = bind(CudnnFunctions.cudnnGetErrorString);
        static final MethodHandle cudnnGetLastErrorString = bind(CudnnFunctions.cudnnGetLastErrorString);
        static final MethodHandle cudnnCreate = bind(CudnnFunctions.cudnnCreate);
        static final MethodHandle cudnnDestroy = bind(CudnnFunctions.cudnnDestroy);
        static final MethodHandle cudnnSetStream = bind(CudnnFunctions.cudnnSetStream);
        static final MethodHandle cudnnCreateTensorDescriptor = bind(CudnnFunctions.cudnnCreateTensorDescriptor);
        static final MethodHandle cudnnSetTensor4dDescriptor = bind(CudnnFunctions.cudnnSetTensor4dDescriptor);
        static final MethodHandle cudnnSetTensor4dDescriptorEx = bind(CudnnFunctions.cudnnSetTensor4dDescriptorEx);
        static final MethodHandle cudnnSetTensorNdDescriptor = bind(CudnnFunctions.cudnnSetTensorNdDescriptor);
        static final MethodHandle cudnnDestroyTensorDescriptor = bind(CudnnFunctions.cudnnDestroyTensorDescriptor);
        static final MethodHandle cudnnAddTensor = bind(CudnnFunctions.cudnnAddTensor);
        static final MethodHandle cudnnCreateFilterDescriptor = bind(CudnnFunctions.cudnnCreateFilterDescriptor);
        static final MethodHandle cudnnSetFilter4dDescriptor = bind(CudnnFunctions.cudnnSetFilter4dDescriptor);
        static final MethodHandle cudnnSetFilterNdDescriptor = bind(CudnnFunctions.cudnnSetFilterNdDescriptor);
        static final MethodHandle cudnnDestroyFilterDescriptor = bind(CudnnFunctions.cudnnDestroyFilterDescriptor);
        static final MethodHandle cudnnCreateConvolutionDescriptor =
                bind(CudnnFunctions.cudnnCreateConvolutionDescriptor);
        static final MethodHandle cudnnSetConvolution2dDescriptor =
                bind(CudnnFunctions.cudnnSetConvolution2dDescriptor);
        static final MethodHandle cudnnSetConvolutionNdDescriptor =
                bind(CudnnFunctions.cudnnSetConvolutionNdDescriptor);
        static final MethodHandle cudnnSetConvolutionGroupCount = bind(CudnnFunctions.cudnnSetConvolutionGroupCount);
        static final MethodHandle cudnnSetConvolutionMathType = bind(CudnnFunctions.cudnnSetConvolutionMathType);
        static final MethodHandle cudnnGetConvolution2dForwardOutputDim =
                bind(CudnnFunctions.cudnnGetConvolution2dForwardOutputDim);
        static final MethodHandle cudnnGetConvolutionNdForwardOutputDim =
                bind(CudnnFunctions.cudnnGetConvolutionNdForwardOutputDim);
        static final MethodHandle cudnnDestroyConvolutionDescriptor =
                bind(CudnnFunctions.cudnnDestroyConvolutionDescriptor);
        static final MethodHandle cudnnGetConvolutionForwardAlgorithmMaxCount =
                bind(CudnnFunctions.cudnnGetConvolutionForwardAlgorithmMaxCount);
        static final MethodHandle cudnnFindConvolutionForwardAlgorithm =
                bind(CudnnFunctions.cudnnFindConvolutionForwardAlgorithm);
        static final MethodHandle cudnnGetConvolutionForwardAlgorithm =
                bind(CudnnFunctions.cudnnGetConvolutionForwardAlgorithm);
        static final MethodHandle cudnnGetConvolutionForwardWorkspaceSize =
                bind(CudnnFunctions.cudnnGetConvolutionForwardWorkspaceSize);
        static final MethodHandle cudnnConvolutionForward = bind(CudnnFunctions.cudnnConvolutionForward);
        static final MethodHandle cudnnGetConvolutionBackwardDataAlgorithmMaxCount =
                bind(CudnnFunctions.cudnnGetConvolutionBackwardDataAlgorithmMaxCount);
        static final MethodHandle cudnnFindConvolutionBackwardDataAlgorithm =
                bind(CudnnFunctions.cudnnFindConvolutionBackwardDataAlgorithm);
        static final MethodHandle cudnnGetConvolutionBackwardDataAlgorithm =
                bind(CudnnFunctions.cudnnGetConvolutionBackwardDataAlgorithm);
        static final MethodHandle cudnnGetConvolutionBackwardDataWorkspaceSize =
                bind(CudnnFunctions.cudnnGetConvolutionBackwardDataWorkspaceSize);
        static final MethodHandle cudnnConvolutionBackwardData = bind(CudnnFunctions.cudnnConvolutionBackwardData);
        static final MethodHandle cudnnGetConvolutionBackwardFilterAlgorithmMaxCount =
                bind(CudnnFunctions.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount);
        static final MethodHandle cudnnFindConvolutionBackwardFilterAlgorithm =
                bind(CudnnFunctions.cudnnFindConvolutionBackwardFilterAlgorithm);
        static final MethodHandle cudnnGetConvolutionBackwardFilterAlgorithm =
                bind(CudnnFunctions.cudnnGetConvolutionBackwardFilterAlgorithm);
        static final MethodHandle cudnnGetConvolutionBackwardFilterWorkspaceSize =
                bind(CudnnFunctions.cudnnGetConvolutionBackwardFilterWorkspaceSize);
        static final MethodHandle cudnnConvolutionBackwardFilter =
                bind(CudnnFunctions.cudnnConvolutionBackwardFilter);
        static final MethodHandle cudnnConvolutionBackwardBias = bind(CudnnFunctions.cudnnConvolutionBackwardBias);
        static final MethodHandle cudnnCreatePoolingDescriptor = bind(CudnnFunctions.cudnnCreatePoolingDescriptor);
        static final MethodHandle cudnnSetPooling2dDescriptor = bind(CudnnFunctions.cudnnSetPooling2dDescriptor);
        static final MethodHandle cudnnGetPooling2dForwardOutputDim =
                bind(CudnnFunctions.cudnnGetPooling2dForwardOutputDim);
        static final MethodHandle cudnnDestroyPoolingDescriptor = bind(CudnnFunctions.cudnnDestroyPoolingDescriptor);
        static final MethodHandle cudnnPoolingForward = bind(CudnnFunctions.cudnnPoolingForward);
        static final MethodHandle cudnnPoolingBackward = bind(CudnnFunctions.cudnnPoolingBackward);
        static final MethodHandle cudnnCreateActivationDescriptor =
                bind(CudnnFunctions.cudnnCreateActivationDescriptor);
        static final MethodHandle cudnnSetActivationDescriptor = bind(CudnnFunctions.cudnnSetActivationDescriptor);
        static final MethodHandle cudnnDestroyActivationDescriptor =
                bind(CudnnFunctions.cudnnDestroyActivationDescriptor);
        static final MethodHandle cudnnActivationForward = bind(CudnnFunctions.cudnnActivationForward);
        static final MethodHandle cudnnActivationBackward = bind(CudnnFunctions.cudnnActivationBackward);
        static final MethodHandle cudnnSoftmaxForward = bind(CudnnFunctions.cudnnSoftmaxForward);
        static final MethodHandle cudnnSoftmaxBackward = bind(CudnnFunctions.cudnnSoftmaxBackward);
        static final MethodHandle cudnnDeriveBNTensorDescriptor = bind(CudnnFunctions.cudnnDeriveBNTensorDescriptor);
        static final MethodHandle cudnnBatchNormalizationForwardTraining =
                bind(CudnnFunctions.cudnnBatchNormalizationForwardTraining);
        static final MethodHandle cudnnBatchNormalizationForwardInference =
                bind(CudnnFunctions.cudnnBatchNormalizationForwardInference);
        static final MethodHandle cudnnBatchNormalizationBackward =
                bind(CudnnFunctions.cudnnBatchNormalizationBackward);

        private static MethodHandle bind(NativeFunction function) {
            return function.bind(NativeLibrary.CUDNN, CudaException.Api.CUDNN);
        }
    }

    // ---------------------------------------------------------------- errors and version

    /** cuDNN's name for a status, for example {@code CUDNN_STATUS_BAD_PARAM}. */
    public static String statusName(int status) {
        try {
            String text = NativeSupport.cString((MemorySegment) H.cudnnGetErrorString.invokeExact(status));
            if (text != null) {
                return text;
            }
        } catch (Throwable t) {
            // Fall through.
        }
        return "CUDNN_STATUS_UNKNOWN_" + status;
    }

    /** cuDNN's most recent error message on this thread (cudnnGetLastErrorString), empty if none. */
    private static String lastErrorMessage() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(ERROR_MESSAGE_BYTES);
            H.cudnnGetLastErrorString.invokeExact(buffer, (long) ERROR_MESSAGE_BYTES);
            return buffer.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return "";
        }
    }

    private static void check(int status, NativeFunction function) {
        if (status != STATUS_SUCCESS) {
            String name = statusName(status);
            String message = lastErrorMessage();
            throw new CudaException(CudaException.Api.CUDNN, function.symbol(), status, name,
                    message.isBlank() ? name : message);
        }
    }

    /** The loaded cuDNN's version, major * 10000 + minor * 100 + patch for cuDNN 9 (90100 for 9.1.0). */
    public static long version() {
        try {
            return (long) H.cudnnGetVersion.invokeExact();
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- handle

    /** Creates a handle bound to the current context. Throws if the loaded cuDNN is older than 9. */
    public static long create() {
        long v = version();
        if (v < 90000) {
            throw new CudaException(CudaException.Api.CUDNN, "cudnnGetVersion", (int) v, "CUDNN_VERSION_TOO_OLD",
                    "cuDNN " + v + " was loaded from " + NativeLibrary.CUDNN.describe() + "; Ember needs cuDNN 9");
        }
        return createHandle(H.cudnnCreate, CudnnFunctions.cudnnCreate);
    }

    /** Destroys a handle. */
    public static void destroy(long handle) {
        destroyHandle(H.cudnnDestroy, CudnnFunctions.cudnnDestroy, handle);
    }

    /** Routes the handle's future work to a stream (0 for the legacy default stream). */
    public static void setStream(long handle, long stream) {
        int status;
        try {
            status = (int) H.cudnnSetStream.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetStream);
    }

    // ---------------------------------------------------------------- tensor descriptors

    /** Creates a tensor descriptor; set it with one of the setters, destroy with {@link #destroyTensorDescriptor}. */
    public static long createTensorDescriptor() {
        return createHandle(H.cudnnCreateTensorDescriptor, CudnnFunctions.cudnnCreateTensorDescriptor);
    }

    /** Describes a packed 4-D tensor in the given format ({@link #TENSOR_NCHW} or {@link #TENSOR_NHWC}). */
    public static void setTensor4dDescriptor(long desc, int format, int dataType, int n, int c, int h, int w) {
        int status;
        try {
            status = (int) H.cudnnSetTensor4dDescriptor.invokeExact(desc, format, dataType, n, c, h, w);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetTensor4dDescriptor);
        TENSOR_TYPES.put(desc, dataType);
    }

    /** Describes a 4-D NCHW-indexed tensor with explicit element strides. */
    public static void setTensor4dDescriptorEx(long desc, int dataType, int n, int c, int h, int w,
                                               int nStride, int cStride, int hStride, int wStride) {
        int status;
        try {
            status = (int) H.cudnnSetTensor4dDescriptorEx.invokeExact(desc, dataType, n, c, h, w,
                    nStride, cStride, hStride, wStride);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetTensor4dDescriptorEx);
        TENSOR_TYPES.put(desc, dataType);
    }

    /** Describes an N-D tensor (3 to 8 dimensions) with explicit element strides. */
    public static void setTensorNdDescriptor(long desc, int dataType, int[] dims, int[] strides) {
        if (dims.length != strides.length) {
            throw new IllegalArgumentException("setTensorNdDescriptor: " + dims.length + " dims but "
                    + strides.length + " strides");
        }
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnSetTensorNdDescriptor.invokeExact(desc, dataType, dims.length,
                    arena.allocateFrom(JAVA_INT, dims), arena.allocateFrom(JAVA_INT, strides)),
                    CudnnFunctions.cudnnSetTensorNdDescriptor);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        TENSOR_TYPES.put(desc, dataType);
    }

    /** Destroys a tensor descriptor. */
    public static void destroyTensorDescriptor(long desc) {
        TENSOR_TYPES.remove(desc);
        destroyHandle(H.cudnnDestroyTensorDescriptor, CudnnFunctions.cudnnDestroyTensorDescriptor, desc);
    }

    /** C = alpha * A + beta * C, broadcasting A (for example a 1xCx1x1 bias) over C. */
    public static void addTensor(long handle, double alpha, long aDesc, long a, double beta, long cDesc, long c) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnAddTensor.invokeExact(handle, scale(arena, cDesc, alpha), aDesc, a,
                    scale(arena, cDesc, beta), cDesc, c), CudnnFunctions.cudnnAddTensor);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- filter descriptors

    /** Creates a filter descriptor. */
    public static long createFilterDescriptor() {
        return createHandle(H.cudnnCreateFilterDescriptor, CudnnFunctions.cudnnCreateFilterDescriptor);
    }

    /** Describes a K x C x H x W filter. */
    public static void setFilter4dDescriptor(long desc, int dataType, int format, int k, int c, int h, int w) {
        int status;
        try {
            status = (int) H.cudnnSetFilter4dDescriptor.invokeExact(desc, dataType, format, k, c, h, w);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetFilter4dDescriptor);
    }

    /** Describes an N-D filter. */
    public static void setFilterNdDescriptor(long desc, int dataType, int format, int[] dims) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnSetFilterNdDescriptor.invokeExact(desc, dataType, format, dims.length,
                    arena.allocateFrom(JAVA_INT, dims)), CudnnFunctions.cudnnSetFilterNdDescriptor);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Destroys a filter descriptor. */
    public static void destroyFilterDescriptor(long desc) {
        destroyHandle(H.cudnnDestroyFilterDescriptor, CudnnFunctions.cudnnDestroyFilterDescriptor, desc);
    }

    // ---------------------------------------------------------------- convolution descriptors

    /** Creates a convolution descriptor. */
    public static long createConvolutionDescriptor() {
        return createHandle(H.cudnnCreateConvolutionDescriptor, CudnnFunctions.cudnnCreateConvolutionDescriptor);
    }

    /**
     * Describes a 2-D convolution. Use {@link #CROSS_CORRELATION} for the frameworks' meaning of
     * convolution; computeType is the accumulation type ({@link #DATA_FLOAT} for float and half data).
     */
    public static void setConvolution2dDescriptor(long desc, int padH, int padW, int strideH, int strideW,
                                                  int dilationH, int dilationW, int mode, int computeType) {
        int status;
        try {
            status = (int) H.cudnnSetConvolution2dDescriptor.invokeExact(desc, padH, padW, strideH, strideW,
                    dilationH, dilationW, mode, computeType);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetConvolution2dDescriptor);
    }

    /** Describes an N-D convolution (one pad, stride and dilation per spatial dimension). */
    public static void setConvolutionNdDescriptor(long desc, int[] pads, int[] strides, int[] dilations,
                                                  int mode, int computeType) {
        if (pads.length != strides.length || pads.length != dilations.length) {
            throw new IllegalArgumentException("setConvolutionNdDescriptor: pads, strides and dilations must have "
                    + "the same length, got " + pads.length + ", " + strides.length + ", " + dilations.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnSetConvolutionNdDescriptor.invokeExact(desc, pads.length,
                    arena.allocateFrom(JAVA_INT, pads), arena.allocateFrom(JAVA_INT, strides),
                    arena.allocateFrom(JAVA_INT, dilations), mode, computeType),
                    CudnnFunctions.cudnnSetConvolutionNdDescriptor);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Sets the number of groups (grouped and depthwise convolution). */
    public static void setConvolutionGroupCount(long desc, int groups) {
        int status;
        try {
            status = (int) H.cudnnSetConvolutionGroupCount.invokeExact(desc, groups);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetConvolutionGroupCount);
    }

    /** Sets which math the convolution may use ({@link #DEFAULT_MATH}, {@link #TENSOR_OP_MATH}, {@link #FMA_MATH}, ...). */
    public static void setConvolutionMathType(long desc, int mathType) {
        int status;
        try {
            status = (int) H.cudnnSetConvolutionMathType.invokeExact(desc, mathType);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetConvolutionMathType);
    }

    /** The output shape {n, c, h, w} of a 2-D convolution. */
    public static int[] convolution2dForwardOutputDim(long convDesc, long xDesc, long wDesc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dims = arena.allocate(JAVA_INT, 4);
            check((int) H.cudnnGetConvolution2dForwardOutputDim.invokeExact(convDesc, xDesc, wDesc,
                    dims.asSlice(0, 4), dims.asSlice(4, 4), dims.asSlice(8, 4), dims.asSlice(12, 4)),
                    CudnnFunctions.cudnnGetConvolution2dForwardOutputDim);
            return dims.toArray(JAVA_INT);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The output shape of an N-D convolution, nbDims entries. */
    public static int[] convolutionNdForwardOutputDim(long convDesc, long xDesc, long wDesc, int nbDims) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dims = arena.allocate(JAVA_INT, nbDims);
            check((int) H.cudnnGetConvolutionNdForwardOutputDim.invokeExact(convDesc, xDesc, wDesc, nbDims, dims),
                    CudnnFunctions.cudnnGetConvolutionNdForwardOutputDim);
            return dims.toArray(JAVA_INT);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Destroys a convolution descriptor. */
    public static void destroyConvolutionDescriptor(long desc) {
        destroyHandle(H.cudnnDestroyConvolutionDescriptor, CudnnFunctions.cudnnDestroyConvolutionDescriptor, desc);
    }

    // ---------------------------------------------------------------- convolution forward

    /**
     * Runs every forward algorithm on scratch buffers cuDNN allocates itself and returns them
     * fastest first (cudnnFindConvolutionForwardAlgorithm). Synchronises the device.
     */
    public static List<AlgorithmPerf> findConvolutionForwardAlgorithms(long handle, long xDesc, long wDesc,
                                                                       long convDesc, long yDesc) {
        return searchAlgorithms(handle, xDesc, wDesc, convDesc, yDesc,
                H.cudnnGetConvolutionForwardAlgorithmMaxCount, CudnnFunctions.cudnnGetConvolutionForwardAlgorithmMaxCount,
                H.cudnnFindConvolutionForwardAlgorithm, CudnnFunctions.cudnnFindConvolutionForwardAlgorithm);
    }

    /** The forward algorithms cuDNN's heuristics expect to be fastest, best first, without running any (_v7). */
    public static List<AlgorithmPerf> getConvolutionForwardAlgorithms(long handle, long xDesc, long wDesc,
                                                                      long convDesc, long yDesc) {
        return searchAlgorithms(handle, xDesc, wDesc, convDesc, yDesc,
                H.cudnnGetConvolutionForwardAlgorithmMaxCount, CudnnFunctions.cudnnGetConvolutionForwardAlgorithmMaxCount,
                H.cudnnGetConvolutionForwardAlgorithm, CudnnFunctions.cudnnGetConvolutionForwardAlgorithm);
    }

    /** Workspace bytes the forward algorithm needs for this problem. */
    public static long convolutionForwardWorkspaceSize(long handle, long xDesc, long wDesc, long convDesc,
                                                       long yDesc, int algo) {
        return workspaceSize(H.cudnnGetConvolutionForwardWorkspaceSize,
                CudnnFunctions.cudnnGetConvolutionForwardWorkspaceSize, handle, xDesc, wDesc, convDesc, yDesc, algo);
    }

    /** y = alpha * conv(x, w) + beta * y. */
    public static void convolutionForward(long handle, double alpha, long xDesc, long x, long wDesc, long w,
                                          long convDesc, int algo, long workspace, long workspaceBytes,
                                          double beta, long yDesc, long y) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnConvolutionForward.invokeExact(handle, scale(arena, yDesc, alpha), xDesc, x, wDesc, w,
                    convDesc, algo, workspace, workspaceBytes, scale(arena, yDesc, beta), yDesc, y),
                    CudnnFunctions.cudnnConvolutionForward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- convolution backward data

    /** Measured backward-data algorithms, fastest first (cudnnFindConvolutionBackwardDataAlgorithm). */
    public static List<AlgorithmPerf> findConvolutionBackwardDataAlgorithms(long handle, long wDesc, long dyDesc,
                                                                            long convDesc, long dxDesc) {
        return searchAlgorithms(handle, wDesc, dyDesc, convDesc, dxDesc,
                H.cudnnGetConvolutionBackwardDataAlgorithmMaxCount,
                CudnnFunctions.cudnnGetConvolutionBackwardDataAlgorithmMaxCount,
                H.cudnnFindConvolutionBackwardDataAlgorithm, CudnnFunctions.cudnnFindConvolutionBackwardDataAlgorithm);
    }

    /** Heuristic backward-data algorithms, best first (_v7). */
    public static List<AlgorithmPerf> getConvolutionBackwardDataAlgorithms(long handle, long wDesc, long dyDesc,
                                                                           long convDesc, long dxDesc) {
        return searchAlgorithms(handle, wDesc, dyDesc, convDesc, dxDesc,
                H.cudnnGetConvolutionBackwardDataAlgorithmMaxCount,
                CudnnFunctions.cudnnGetConvolutionBackwardDataAlgorithmMaxCount,
                H.cudnnGetConvolutionBackwardDataAlgorithm, CudnnFunctions.cudnnGetConvolutionBackwardDataAlgorithm);
    }

    /** Workspace bytes the backward-data algorithm needs. */
    public static long convolutionBackwardDataWorkspaceSize(long handle, long wDesc, long dyDesc, long convDesc,
                                                            long dxDesc, int algo) {
        return workspaceSize(H.cudnnGetConvolutionBackwardDataWorkspaceSize,
                CudnnFunctions.cudnnGetConvolutionBackwardDataWorkspaceSize, handle, wDesc, dyDesc, convDesc, dxDesc,
                algo);
    }

    /** dx = alpha * (gradient of the convolution with respect to its input, given dy) + beta * dx. */
    public static void convolutionBackwardData(long handle, double alpha, long wDesc, long w, long dyDesc, long dy,
                                               long convDesc, int algo, long workspace, long workspaceBytes,
                                               double beta, long dxDesc, long dx) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnConvolutionBackwardData.invokeExact(handle, scale(arena, dxDesc, alpha), wDesc, w,
                    dyDesc, dy, convDesc, algo, workspace, workspaceBytes, scale(arena, dxDesc, beta), dxDesc, dx),
                    CudnnFunctions.cudnnConvolutionBackwardData);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- convolution backward filter and bias

    /** Measured backward-filter algorithms, fastest first (cudnnFindConvolutionBackwardFilterAlgorithm). */
    public static List<AlgorithmPerf> findConvolutionBackwardFilterAlgorithms(long handle, long xDesc, long dyDesc,
                                                                              long convDesc, long dwDesc) {
        return searchAlgorithms(handle, xDesc, dyDesc, convDesc, dwDesc,
                H.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,
                CudnnFunctions.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,
                H.cudnnFindConvolutionBackwardFilterAlgorithm,
                CudnnFunctions.cudnnFindConvolutionBackwardFilterAlgorithm);
    }

    /** Heuristic backward-filter algorithms, best first (_v7). */
    public static List<AlgorithmPerf> getConvolutionBackwardFilterAlgorithms(long handle, long xDesc, long dyDesc,
                                                                             long convDesc, long dwDesc) {
        return searchAlgorithms(handle, xDesc, dyDesc, convDesc, dwDesc,
                H.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,
                CudnnFunctions.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,
                H.cudnnGetConvolutionBackwardFilterAlgorithm,
                CudnnFunctions.cudnnGetConvolutionBackwardFilterAlgorithm);
    }

    /** Workspace bytes the backward-filter algorithm needs. */
    public static long convolutionBackwardFilterWorkspaceSize(long handle, long xDesc, long dyDesc, long convDesc,
                                                              long dwDesc, int algo) {
        return workspaceSize(H.cudnnGetConvolutionBackwardFilterWorkspaceSize,
                CudnnFunctions.cudnnGetConvolutionBackwardFilterWorkspaceSize, handle, xDesc, dyDesc, convDesc,
                dwDesc, algo);
    }

    /** dw = alpha * (gradient of the convolution with respect to its filter, given x and dy) + beta * dw. */
    public static void convolutionBackwardFilter(long handle, double alpha, long xDesc, long x, long dyDesc, long dy,
                                                 long convDesc, int algo, long workspace, long workspaceBytes,
                                                 double beta, long dwDesc, long dw) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnConvolutionBackwardFilter.invokeExact(handle, scale(arena, xDesc, alpha), xDesc, x,
                    dyDesc, dy, convDesc, algo, workspace, workspaceBytes, scale(arena, xDesc, beta), dwDesc, dw),
                    CudnnFunctions.cudnnConvolutionBackwardFilter);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** db = alpha * (dy summed over n, h, w) + beta * db, for a 1xCx1x1 bias. */
    public static void convolutionBackwardBias(long handle, double alpha, long dyDesc, long dy, double beta,
                                               long dbDesc, long db) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnConvolutionBackwardBias.invokeExact(handle, scale(arena, dyDesc, alpha), dyDesc, dy,
                    scale(arena, dyDesc, beta), dbDesc, db), CudnnFunctions.cudnnConvolutionBackwardBias);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- pooling

    /** Creates a pooling descriptor. */
    public static long createPoolingDescriptor() {
        return createHandle(H.cudnnCreatePoolingDescriptor, CudnnFunctions.cudnnCreatePoolingDescriptor);
    }

    /** Describes 2-D pooling: mode ({@link #POOLING_MAX}, ...), NaN handling, window, padding and stride. */
    public static void setPooling2dDescriptor(long desc, int mode, int nanPropagation, int windowH, int windowW,
                                              int padH, int padW, int strideH, int strideW) {
        int status;
        try {
            status = (int) H.cudnnSetPooling2dDescriptor.invokeExact(desc, mode, nanPropagation, windowH, windowW,
                    padH, padW, strideH, strideW);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetPooling2dDescriptor);
    }

    /** The output shape {n, c, h, w} of 2-D pooling. */
    public static int[] pooling2dForwardOutputDim(long poolDesc, long xDesc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dims = arena.allocate(JAVA_INT, 4);
            check((int) H.cudnnGetPooling2dForwardOutputDim.invokeExact(poolDesc, xDesc,
                    dims.asSlice(0, 4), dims.asSlice(4, 4), dims.asSlice(8, 4), dims.asSlice(12, 4)),
                    CudnnFunctions.cudnnGetPooling2dForwardOutputDim);
            return dims.toArray(JAVA_INT);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Destroys a pooling descriptor. */
    public static void destroyPoolingDescriptor(long desc) {
        destroyHandle(H.cudnnDestroyPoolingDescriptor, CudnnFunctions.cudnnDestroyPoolingDescriptor, desc);
    }

    /** y = alpha * pool(x) + beta * y. */
    public static void poolingForward(long handle, long poolDesc, double alpha, long xDesc, long x,
                                      double beta, long yDesc, long y) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnPoolingForward.invokeExact(handle, poolDesc, scale(arena, yDesc, alpha), xDesc, x,
                    scale(arena, yDesc, beta), yDesc, y), CudnnFunctions.cudnnPoolingForward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** dx = alpha * (gradient of pooling given y, dy and x) + beta * dx. */
    public static void poolingBackward(long handle, long poolDesc, double alpha, long yDesc, long y,
                                       long dyDesc, long dy, long xDesc, long x, double beta, long dxDesc, long dx) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnPoolingBackward.invokeExact(handle, poolDesc, scale(arena, dxDesc, alpha), yDesc, y,
                    dyDesc, dy, xDesc, x, scale(arena, dxDesc, beta), dxDesc, dx),
                    CudnnFunctions.cudnnPoolingBackward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- activation

    /** Creates an activation descriptor. */
    public static long createActivationDescriptor() {
        return createHandle(H.cudnnCreateActivationDescriptor, CudnnFunctions.cudnnCreateActivationDescriptor);
    }

    /** Describes an activation: mode ({@link #ACTIVATION_RELU}, ...), NaN handling, coef (clip ceiling or ELU alpha). */
    public static void setActivationDescriptor(long desc, int mode, int nanPropagation, double coef) {
        int status;
        try {
            status = (int) H.cudnnSetActivationDescriptor.invokeExact(desc, mode, nanPropagation, coef);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnSetActivationDescriptor);
    }

    /** Destroys an activation descriptor. */
    public static void destroyActivationDescriptor(long desc) {
        destroyHandle(H.cudnnDestroyActivationDescriptor, CudnnFunctions.cudnnDestroyActivationDescriptor, desc);
    }

    /** y = alpha * act(x) + beta * y. */
    public static void activationForward(long handle, long activationDesc, double alpha, long xDesc, long x,
                                         double beta, long yDesc, long y) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnActivationForward.invokeExact(handle, activationDesc, scale(arena, yDesc, alpha),
                    xDesc, x, scale(arena, yDesc, beta), yDesc, y), CudnnFunctions.cudnnActivationForward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** dx = alpha * (gradient of the activation given y, dy and x) + beta * dx. */
    public static void activationBackward(long handle, long activationDesc, double alpha, long yDesc, long y,
                                          long dyDesc, long dy, long xDesc, long x, double beta,
                                          long dxDesc, long dx) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnActivationBackward.invokeExact(handle, activationDesc, scale(arena, dxDesc, alpha),
                    yDesc, y, dyDesc, dy, xDesc, x, scale(arena, dxDesc, beta), dxDesc, dx),
                    CudnnFunctions.cudnnActivationBackward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- softmax

    /** y = alpha * softmax(x) + beta * y; algorithm {@link #SOFTMAX_ACCURATE} or {@link #SOFTMAX_LOG}, mode per channel or instance. */
    public static void softmaxForward(long handle, int algorithm, int mode, double alpha, long xDesc, long x,
                                      double beta, long yDesc, long y) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnSoftmaxForward.invokeExact(handle, algorithm, mode, scale(arena, yDesc, alpha),
                    xDesc, x, scale(arena, yDesc, beta), yDesc, y), CudnnFunctions.cudnnSoftmaxForward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** dx = alpha * (gradient of softmax given y and dy) + beta * dx. */
    public static void softmaxBackward(long handle, int algorithm, int mode, double alpha, long yDesc, long y,
                                       long dyDesc, long dy, double beta, long dxDesc, long dx) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnSoftmaxBackward.invokeExact(handle, algorithm, mode, scale(arena, dxDesc, alpha),
                    yDesc, y, dyDesc, dy, scale(arena, dxDesc, beta), dxDesc, dx),
                    CudnnFunctions.cudnnSoftmaxBackward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- batch normalization

    /** Sets derivedDesc to the scale/bias/mean/variance shape for x under the mode (1xCx1x1 for spatial). */
    public static void deriveBNTensorDescriptor(long derivedDesc, long xDesc, int mode) {
        int status;
        try {
            status = (int) H.cudnnDeriveBNTensorDescriptor.invokeExact(derivedDesc, xDesc, mode);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, CudnnFunctions.cudnnDeriveBNTensorDescriptor);
        // cuDNN derives float parameters for half/bfloat16 data and double for double data.
        Integer xType = TENSOR_TYPES.get(xDesc);
        TENSOR_TYPES.put(derivedDesc, xType != null && xType == DATA_DOUBLE ? DATA_DOUBLE : DATA_FLOAT);
    }

    /**
     * Training-mode batch normalization: normalises x with the batch statistics into y, updates
     * the running mean and variance with {@code exponentialAverageFactor} (1 on the first call),
     * and saves the batch mean and inverse standard deviation for the backward pass (0 to skip).
     */
    public static void batchNormalizationForwardTraining(long handle, int mode, double alpha, double beta,
                                                         long xDesc, long x, long yDesc, long y,
                                                         long bnDesc, long scale, long bias,
                                                         double exponentialAverageFactor,
                                                         long runningMean, long runningVariance, double epsilon,
                                                         long saveMean, long saveInvVariance) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnBatchNormalizationForwardTraining.invokeExact(handle, mode,
                    scale(arena, yDesc, alpha), scale(arena, yDesc, beta), xDesc, x, yDesc, y, bnDesc, scale, bias,
                    exponentialAverageFactor, runningMean, runningVariance, epsilon, saveMean, saveInvVariance),
                    CudnnFunctions.cudnnBatchNormalizationForwardTraining);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** Inference-mode batch normalization with the given (running) mean and variance. */
    public static void batchNormalizationForwardInference(long handle, int mode, double alpha, double beta,
                                                          long xDesc, long x, long yDesc, long y,
                                                          long bnDesc, long scale, long bias,
                                                          long estimatedMean, long estimatedVariance,
                                                          double epsilon) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnBatchNormalizationForwardInference.invokeExact(handle, mode,
                    scale(arena, yDesc, alpha), scale(arena, yDesc, beta), xDesc, x, yDesc, y, bnDesc, scale, bias,
                    estimatedMean, estimatedVariance, epsilon),
                    CudnnFunctions.cudnnBatchNormalizationForwardInference);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /**
     * Batch normalization backward: dx from dy, and the scale and bias gradients. The saved
     * mean and inverse standard deviation from the forward pass may be given (or both 0).
     * Data gradients blend with alphaData/betaData, parameter gradients with alphaParam/betaParam.
     */
    public static void batchNormalizationBackward(long handle, int mode, double alphaData, double betaData,
                                                  double alphaParam, double betaParam,
                                                  long xDesc, long x, long dyDesc, long dy, long dxDesc, long dx,
                                                  long bnDesc, long scale, long scaleGrad, long biasGrad,
                                                  double epsilon, long savedMean, long savedInvVariance) {
        try (Arena arena = Arena.ofConfined()) {
            check((int) H.cudnnBatchNormalizationBackward.invokeExact(handle, mode,
                    scale(arena, dxDesc, alphaData), scale(arena, dxDesc, betaData),
                    scale(arena, dxDesc, alphaParam), scale(arena, dxDesc, betaParam),
                    xDesc, x, dyDesc, dy, dxDesc, dx, bnDesc, scale, scaleGrad, biasGrad,
                    epsilon, savedMean, savedInvVariance), CudnnFunctions.cudnnBatchNormalizationBackward);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    // ---------------------------------------------------------------- shared plumbing

    /** A host scaling factor typed by cuDNN's rule: double for double data, float otherwise. */
    private static MemorySegment scale(Arena arena, long tensorDesc, double value) {
        Integer type = TENSOR_TYPES.get(tensorDesc);
        return type != null && type == DATA_DOUBLE
                ? arena.allocateFrom(JAVA_DOUBLE, value)
                : arena.allocateFrom(JAVA_FLOAT, (float) value);
    }

    private static long createHandle(MethodHandle create, NativeFunction function) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) create.invokeExact(out), function);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    private static void destroyHandle(MethodHandle destroy, NativeFunction function, long handle) {
        int status;
        try {
            status = (int) destroy.invokeExact(handle);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
        check(status, function);
    }

    private static long workspaceSize(MethodHandle query, NativeFunction function, long handle, long a, long b,
                                      long convDesc, long c, int algo) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) query.invokeExact(handle, a, b, convDesc, c, algo, out), function);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }

    /** The find and _v7 calls for all three directions share one shape: ask the maximum count, then fill perf structs. */
    private static List<AlgorithmPerf> searchAlgorithms(long handle, long a, long b, long convDesc, long c,
                                                        MethodHandle maxCount, NativeFunction maxCountFunction,
                                                        MethodHandle search, NativeFunction searchFunction) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            check((int) maxCount.invokeExact(handle, count), maxCountFunction);
            int requested = Math.max(1, count.get(JAVA_INT, 0));
            MemorySegment returned = arena.allocate(JAVA_INT);
            MemorySegment perfs = arena.allocate(ALGO_PERF, requested);
            check((int) search.invokeExact(handle, a, b, convDesc, c, requested, returned, perfs), searchFunction);
            int n = Math.min(requested, returned.get(JAVA_INT, 0));
            List<AlgorithmPerf> result = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                MemorySegment perf = perfs.asSlice(i * ALGO_PERF.byteSize(), ALGO_PERF.byteSize());
                result.add(new AlgorithmPerf(
                        perf.get(JAVA_INT, ALGO_PERF.byteOffset(MemoryLayout.PathElement.groupElement("algo"))),
                        perf.get(JAVA_INT, ALGO_PERF.byteOffset(MemoryLayout.PathElement.groupElement("status"))),
                        perf.get(JAVA_FLOAT, ALGO_PERF.byteOffset(MemoryLayout.PathElement.groupElement("time"))),
                        perf.get(JAVA_LONG, ALGO_PERF.byteOffset(MemoryLayout.PathElement.groupElement("memory"))),
                        perf.get(JAVA_INT, ALGO_PERF.byteOffset(
                                MemoryLayout.PathElement.groupElement("determinism"))) == 1,
                        perf.get(JAVA_INT, ALGO_PERF.byteOffset(MemoryLayout.PathElement.groupElement("mathType")))));
            }
            return result;
        } catch (Throwable t) {
            throw NativeSupport.rethrow(t);
        }
    }
}

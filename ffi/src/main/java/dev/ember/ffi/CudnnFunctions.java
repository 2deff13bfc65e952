package dev.ember.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The table of every cuDNN function {@link Cudnn} binds, checked against cuDNN 9's headers
 * ({@code cudnn_graph.h}, {@code cudnn_ops.h}, {@code cudnn_cnn.h}). These are the
 * descriptor-based ("legacy") functions, which cuDNN 9 still exports from
 * {@code libcudnn.so.9}; the ones cuDNN 9 removed (for example the non-{@code _v7}
 * {@code cudnnGetConvolutionForwardAlgorithm}) are not used. Functions return
 * {@code cudnnStatus_t} ({@code int}); handles, descriptors and device buffers are
 * {@code long}; host scalars and out-parameters are {@code ADDRESS}.
 */
final class CudnnFunctions {

    private static final List<NativeFunction> ALL_FUNCTIONS = new ArrayList<>();

    /** Every binding, in declaration order. */
    static final List<NativeFunction> ALL = Collections.unmodifiableList(ALL_FUNCTIONS);

    private static final MemoryLayout STATUS = JAVA_INT; // cudnnStatus_t
    private static final MemoryLayout HANDLE = JAVA_LONG; // cudnnHandle_t, descriptors, cudaStream_t
    private static final MemoryLayout DEV = JAVA_LONG; // device buffers
    private static final MemoryLayout INT = JAVA_INT; // int and enums
    private static final MemoryLayout SIZE = JAVA_LONG; // size_t
    private static final MemoryLayout DOUBLE = JAVA_DOUBLE;
    private static final MemoryLayout PTR = ADDRESS; // host scalars, arrays and out-parameters

    // Library, handle, errors.
    static final NativeFunction cudnnGetVersion = register(new NativeFunction("cudnnGetVersion", List.of(),
            FunctionDescriptor.of(SIZE), false));
    // const char* cudnnGetErrorString(cudnnStatus_t): a table look-up, never blocks.
    static final NativeFunction cudnnGetErrorString = register(new NativeFunction("cudnnGetErrorString", List.of(),
            FunctionDescriptor.of(ADDRESS, INT), true));
    // void cudnnGetLastErrorString(char *message, size_t max_size)
    static final NativeFunction cudnnGetLastErrorString = register(new NativeFunction("cudnnGetLastErrorString",
            List.of(), FunctionDescriptor.ofVoid(PTR, SIZE), false));
    static final NativeFunction cudnnCreate = fn("cudnnCreate", PTR);
    static final NativeFunction cudnnDestroy = fn("cudnnDestroy", HANDLE);
    static final NativeFunction cudnnSetStream = fn("cudnnSetStream", HANDLE, HANDLE);

    // Tensor descriptors.
    static final NativeFunction cudnnCreateTensorDescriptor = fn("cudnnCreateTensorDescriptor", PTR);
    static final NativeFunction cudnnSetTensor4dDescriptor = fn("cudnnSetTensor4dDescriptor",
            HANDLE, INT, INT, INT, INT, INT, INT);
    static final NativeFunction cudnnSetTensor4dDescriptorEx = fn("cudnnSetTensor4dDescriptorEx",
            HANDLE, INT, INT, INT, INT, INT, INT, INT, INT, INT);
    static final NativeFunction cudnnSetTensorNdDescriptor = fn("cudnnSetTensorNdDescriptor",
            HANDLE, INT, INT, PTR, PTR);
    static final NativeFunction cudnnDestroyTensorDescriptor = fn("cudnnDestroyTensorDescriptor", HANDLE);
    static final NativeFunction cudnnAddTensor = fn("cudnnAddTensor", HANDLE, PTR, HANDLE, DEV, PTR, HANDLE, DEV);

    // Filter descriptors.
    static final NativeFunction cudnnCreateFilterDescriptor = fn("cudnnCreateFilterDescriptor", PTR);
    static final NativeFunction cudnnSetFilter4dDescriptor = fn("cudnnSetFilter4dDescriptor",
            HANDLE, INT, INT, INT, INT, INT, INT);
    static final NativeFunction cudnnSetFilterNdDescriptor = fn("cudnnSetFilterNdDescriptor",
            HANDLE, INT, INT, INT, PTR);
    static final NativeFunction cudnnDestroyFilterDescriptor = fn("cudnnDestroyFilterDescriptor", HANDLE);

    // Convolution descriptors.
    static final NativeFunction cudnnCreateConvolutionDescriptor = fn("cudnnCreateConvolutionDescriptor", PTR);
    static final NativeFunction cudnnSetConvolution2dDescriptor = fn("cudnnSetConvolution2dDescriptor",
            HANDLE, INT, INT, INT, INT, INT, INT, INT, INT);
    static final NativeFunction cudnnSetConvolutionNdDescriptor = fn("cudnnSetConvolutionNdDescriptor",
            HANDLE, INT, PTR, PTR, PTR, INT, INT);
    static final NativeFunction cudnnSetConvolutionGroupCount = fn("cudnnSetConvolutionGroupCount", HANDLE, INT);
    static final NativeFunction cudnnSetConvolutionMathType = fn("cudnnSetConvolutionMathType", HANDLE, INT);
    static final NativeFunction cudnnGetConvolution2dForwardOutputDim = fn("cudnnGetConvolution2dForwardOutputDim",
            HANDLE, HANDLE, HANDLE, PTR, PTR, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionNdForwardOutputDim = fn("cudnnGetConvolutionNdForwardOutputDim",
            HANDLE, HANDLE, HANDLE, INT, PTR);
    static final NativeFunction cudnnDestroyConvolutionDescriptor = fn("cudnnDestroyConvolutionDescriptor", HANDLE);

    // Convolution forward.
    static final NativeFunction cudnnGetConvolutionForwardAlgorithmMaxCount =
            fn("cudnnGetConvolutionForwardAlgorithmMaxCount", HANDLE, PTR);
    static final NativeFunction cudnnFindConvolutionForwardAlgorithm = fn("cudnnFindConvolutionForwardAlgorithm",
            HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionForwardAlgorithm = fn("cudnnGetConvolutionForwardAlgorithm_v7",
            HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionForwardWorkspaceSize =
            fn("cudnnGetConvolutionForwardWorkspaceSize", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR);
    static final NativeFunction cudnnConvolutionForward = fn("cudnnConvolutionForward",
            HANDLE, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, INT, DEV, SIZE, PTR, HANDLE, DEV);

    // Convolution backward data.
    static final NativeFunction cudnnGetConvolutionBackwardDataAlgorithmMaxCount =
            fn("cudnnGetConvolutionBackwardDataAlgorithmMaxCount", HANDLE, PTR);
    static final NativeFunction cudnnFindConvolutionBackwardDataAlgorithm =
            fn("cudnnFindConvolutionBackwardDataAlgorithm", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionBackwardDataAlgorithm =
            fn("cudnnGetConvolutionBackwardDataAlgorithm_v7", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionBackwardDataWorkspaceSize =
            fn("cudnnGetConvolutionBackwardDataWorkspaceSize", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR);
    static final NativeFunction cudnnConvolutionBackwardData = fn("cudnnConvolutionBackwardData",
            HANDLE, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, INT, DEV, SIZE, PTR, HANDLE, DEV);

    // Convolution backward filter and bias.
    static final NativeFunction cudnnGetConvolutionBackwardFilterAlgorithmMaxCount =
            fn("cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", HANDLE, PTR);
    static final NativeFunction cudnnFindConvolutionBackwardFilterAlgorithm =
            fn("cudnnFindConvolutionBackwardFilterAlgorithm", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionBackwardFilterAlgorithm =
            fn("cudnnGetConvolutionBackwardFilterAlgorithm_v7", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR, PTR);
    static final NativeFunction cudnnGetConvolutionBackwardFilterWorkspaceSize =
            fn("cudnnGetConvolutionBackwardFilterWorkspaceSize", HANDLE, HANDLE, HANDLE, HANDLE, HANDLE, INT, PTR);
    static final NativeFunction cudnnConvolutionBackwardFilter = fn("cudnnConvolutionBackwardFilter",
            HANDLE, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, INT, DEV, SIZE, PTR, HANDLE, DEV);
    static final NativeFunction cudnnConvolutionBackwardBias = fn("cudnnConvolutionBackwardBias",
            HANDLE, PTR, HANDLE, DEV, PTR, HANDLE, DEV);

    // Pooling.
    static final NativeFunction cudnnCreatePoolingDescriptor = fn("cudnnCreatePoolingDescriptor", PTR);
    static final NativeFunction cudnnSetPooling2dDescriptor = fn("cudnnSetPooling2dDescriptor",
            HANDLE, INT, INT, INT, INT, INT, INT, INT, INT);
    static final NativeFunction cudnnGetPooling2dForwardOutputDim = fn("cudnnGetPooling2dForwardOutputDim",
            HANDLE, HANDLE, PTR, PTR, PTR, PTR);
    static final NativeFunction cudnnDestroyPoolingDescriptor = fn("cudnnDestroyPoolingDescriptor", HANDLE);
    static final NativeFunction cudnnPoolingForward = fn("cudnnPoolingForward",
            HANDLE, HANDLE, PTR, HANDLE, DEV, PTR, HANDLE, DEV);
    static final NativeFunction cudnnPoolingBackward = fn("cudnnPoolingBackward",
            HANDLE, HANDLE, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, DEV, PTR, HANDLE, DEV);

    // Activation.
    static final NativeFunction cudnnCreateActivationDescriptor = fn("cudnnCreateActivationDescriptor", PTR);
    static final NativeFunction cudnnSetActivationDescriptor = fn("cudnnSetActivationDescriptor",
            HANDLE, INT, INT, DOUBLE);
    static final NativeFunction cudnnDestroyActivationDescriptor = fn("cudnnDestroyActivationDescriptor", HANDLE);
    static final NativeFunction cudnnActivationForward = fn("cudnnActivationForward",
            HANDLE, HANDLE, PTR, HANDLE, DEV, PTR, HANDLE, DEV);
    static final NativeFunction cudnnActivationBackward = fn("cudnnActivationBackward",
            HANDLE, HANDLE, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, DEV, PTR, HANDLE, DEV);

    // Softmax.
    static final NativeFunction cudnnSoftmaxForward = fn("cudnnSoftmaxForward",
            HANDLE, INT, INT, PTR, HANDLE, DEV, PTR, HANDLE, DEV);
    static final NativeFunction cudnnSoftmaxBackward = fn("cudnnSoftmaxBackward",
            HANDLE, INT, INT, PTR, HANDLE, DEV, HANDLE, DEV, PTR, HANDLE, DEV);

    // Batch normalization.
    static final NativeFunction cudnnDeriveBNTensorDescriptor = fn("cudnnDeriveBNTensorDescriptor",
            HANDLE, HANDLE, INT);
    static final NativeFunction cudnnBatchNormalizationForwardTraining =
            fn("cudnnBatchNormalizationForwardTraining",
                    HANDLE, INT, PTR, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, DEV, DEV,
                    DOUBLE, DEV, DEV, DOUBLE, DEV, DEV);
    static final NativeFunction cudnnBatchNormalizationForwardInference =
            fn("cudnnBatchNormalizationForwardInference",
                    HANDLE, INT, PTR, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, DEV, DEV, DEV, DEV, DOUBLE);
    static final NativeFunction cudnnBatchNormalizationBackward = fn("cudnnBatchNormalizationBackward",
            HANDLE, INT, PTR, PTR, PTR, PTR, HANDLE, DEV, HANDLE, DEV, HANDLE, DEV,
            HANDLE, DEV, DEV, DEV, DOUBLE, DEV, DEV);

    private CudnnFunctions() {
    }

    private static NativeFunction fn(String symbol, MemoryLayout... args) {
        return register(new NativeFunction(symbol, List.of(), FunctionDescriptor.of(STATUS, args), false));
    }

    private static NativeFunction register(NativeFunction function) {
        ALL_FUNCTIONS.add(function);
        return function;
    }
}

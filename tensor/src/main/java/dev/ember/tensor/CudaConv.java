package dev.ember.tensor;

import dev.ember.ffi.Cudnn;
import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuConvGeometry;
import dev.ember.tensor.cuda.CudnnDescriptors;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;

/**
 * conv2d and its gradients on CUDA through cuDNN, for {@link ConvKernels} once it has checked
 * the arguments: operands are made contiguous (NCHW), results are new contiguous tensors on the
 * operands' device, and every call is queued on the current stream.
 *
 * <p>Algorithms are chosen as PyTorch does by default ({@code torch.backends.cudnn.benchmark}
 * off): the first that cuDNN's heuristics ({@code cudnnGet*Algorithm_v7}) rank runnable for the
 * problem and that respects the math type allowed, once per problem (shape, stride, padding,
 * dilation, groups, dtype, math type and direction, on one device) and then from a map. The
 * descriptor runs with the math type of the chosen algorithm, as cuDNN requires. Workspaces are
 * temporary tensors from the caching allocator.
 */
final class CudaConv {
    private CudaConv() {}

    /** The three problems a convolution poses cuDNN, each with its own algorithms. */
    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** Everything an algorithm choice depends on. */
    record Key(int device, Direction direction, DType dtype, int mathType, CpuConvGeometry geometry) {}

    /** A chosen algorithm, the math type it runs with, and the workspace it needs for its problem. */
    record Choice(int algo, int mathType, long workspaceBytes) {}

    private static final Map<Key, Choice> CHOICES = new ConcurrentHashMap<>();
    private static final AtomicLong SEARCHES = new AtomicLong();

    /** How many algorithm searches have run (one per new problem): a second call of a shape adds none. */
    static long searches() { return SEARCHES.get(); }

    /** y = conv(input, weight) + bias, of shape outShape; bias may be null. */
    static Tensor forward(CpuConvGeometry g, DType t, Tensor input, Tensor weight, Tensor bias, long[] outShape) {
        Device d = input.device();
        Tensor y = Tensor.empty(d, t, outShape);
        if (y.numel() == 0) return y;
        // an input with no channels or no pixels contributes no terms: the output is the bias alone
        boolean noTerms = (long) g.inChannels() * g.inH() * g.inW() == 0;
        try (Tensor x = input.contiguousAs(t); Tensor w = weight.contiguousAs(t);
             Tensor b = bias == null ? null : bias.contiguousAs(t)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long yd = desc.tensor(t, outputDims(g));
                    if (noTerms) {
                        CudaOps.fill(y, 0);
                    } else {
                        long xd = desc.tensor(t, inputDims(g)), wd = desc.filter(t, g);
                        int math = CudnnDescriptors.convolutionMath(t, CudnnOptions.allowTf32());
                        long cd = desc.convolution(g, t, math);
                        Choice c = choose(new Key(d.index(), Direction.FORWARD, t, math, g), cd,
                                () -> Cudnn.getConvolutionForwardAlgorithms(handle, xd, wd, cd, yd),
                                algo -> Cudnn.convolutionForwardWorkspaceSize(handle, xd, wd, cd, yd, algo));
                        try (Tensor ws = CudnnCalls.workspace(d, c.workspaceBytes())) {
                            Cudnn.convolutionForward(handle, 1, xd, CudnnCalls.address(x), wd, CudnnCalls.address(w), cd,
                                    c.algo(), CudnnCalls.address(ws), c.workspaceBytes(), 0, yd, CudnnCalls.address(y));
                        }
                    }
                    if (b != null) {
                        long bd = desc.tensor(t, new int[] {1, g.outChannels(), 1, 1});
                        Cudnn.addTensor(handle, 1, bd, CudnnCalls.address(b), 1, yd, CudnnCalls.address(y));
                    }
                }
            });
        }
        return y;
    }

    /** The gradient with respect to the input, of shape inputShape. */
    static Tensor backwardData(CpuConvGeometry g, DType t, Tensor gradOut, Tensor weight, long[] inputShape) {
        Device d = gradOut.device();
        Tensor dx = Tensor.empty(d, t, inputShape);
        if (dx.numel() == 0) return dx;
        try (Tensor dy = gradOut.contiguousAs(t); Tensor w = weight.contiguousAs(t)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long xd = desc.tensor(t, inputDims(g)), yd = desc.tensor(t, outputDims(g)), wd = desc.filter(t, g);
                    int math = CudnnDescriptors.convolutionMath(t, CudnnOptions.allowTf32());
                    long cd = desc.convolution(g, t, math);
                    Choice c = choose(new Key(d.index(), Direction.BACKWARD_DATA, t, math, g), cd,
                            () -> Cudnn.getConvolutionBackwardDataAlgorithms(handle, wd, yd, cd, xd),
                            algo -> Cudnn.convolutionBackwardDataWorkspaceSize(handle, wd, yd, cd, xd, algo));
                    try (Tensor ws = CudnnCalls.workspace(d, c.workspaceBytes())) {
                        Cudnn.convolutionBackwardData(handle, 1, wd, CudnnCalls.address(w), yd, CudnnCalls.address(dy), cd,
                                c.algo(), CudnnCalls.address(ws), c.workspaceBytes(), 0, xd, CudnnCalls.address(dx));
                    }
                }
            });
        }
        return dx;
    }

    /** The gradient with respect to the weight, of shape weightShape. */
    static Tensor backwardFilter(CpuConvGeometry g, DType t, Tensor gradOut, Tensor input, long[] weightShape) {
        Device d = gradOut.device();
        if ((long) g.batch() * g.inH() * g.inW() == 0) return Tensor.zeros(d, t, weightShape); // no terms to sum
        Tensor dw = Tensor.empty(d, t, weightShape);
        if (dw.numel() == 0) return dw;
        try (Tensor dy = gradOut.contiguousAs(t); Tensor x = input.contiguousAs(t)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long xd = desc.tensor(t, inputDims(g)), yd = desc.tensor(t, outputDims(g)), wd = desc.filter(t, g);
                    int math = CudnnDescriptors.convolutionMath(t, CudnnOptions.allowTf32());
                    long cd = desc.convolution(g, t, math);
                    Choice c = choose(new Key(d.index(), Direction.BACKWARD_FILTER, t, math, g), cd,
                            () -> Cudnn.getConvolutionBackwardFilterAlgorithms(handle, xd, yd, cd, wd),
                            algo -> Cudnn.convolutionBackwardFilterWorkspaceSize(handle, xd, yd, cd, wd, algo));
                    try (Tensor ws = CudnnCalls.workspace(d, c.workspaceBytes())) {
                        Cudnn.convolutionBackwardFilter(handle, 1, xd, CudnnCalls.address(x), yd, CudnnCalls.address(dy), cd,
                                c.algo(), CudnnCalls.address(ws), c.workspaceBytes(), 0, wd, CudnnCalls.address(dw));
                    }
                }
            });
        }
        return dw;
    }

    /** Sums over every dim but dim 1 of an [N, C, ...] tensor, as a [C] tensor of dtype t (conv2d's bias gradient). */
    static Tensor channelSums(Tensor x, DType t) {
        Device d = x.device();
        int[] dims = CudnnDescriptors.perChannel(x.shape);
        if (x.numel() == 0) return Tensor.zeros(d, t, x.shape[1]);
        Tensor sums = Tensor.empty(d, t, x.shape[1]);
        try (Tensor c = x.contiguousAs(t)) {
            CudnnCalls.run(d, handle -> {
                try (CudnnDescriptors desc = new CudnnDescriptors()) {
                    long xd = desc.tensor(t, dims), sd = desc.tensor(t, new int[] {1, dims[1], 1, 1});
                    Cudnn.convolutionBackwardBias(handle, 1, xd, CudnnCalls.address(c), 0, sd, CudnnCalls.address(sums));
                }
            });
        }
        return sums;
    }

    /**
     * The cached choice for key, or a new one: the heuristics' first usable algorithm, the
     * descriptor switched to its math type, and its workspace size. Either way the descriptor
     * is left with the choice's math type.
     */
    private static Choice choose(Key key, long convDesc, Supplier<List<Cudnn.AlgorithmPerf>> heuristics,
            IntToLongFunction workspaceBytes) {
        Choice c = CHOICES.get(key);
        if (c == null) {
            SEARCHES.incrementAndGet();
            Cudnn.AlgorithmPerf p = pick(heuristics.get(), key.mathType(), key);
            Cudnn.setConvolutionMathType(convDesc, p.mathType());
            c = new Choice(p.algo(), p.mathType(), workspaceBytes.applyAsLong(p.algo()));
            Choice raced = CHOICES.putIfAbsent(key, c);
            if (raced != null) c = raced;
        }
        Cudnn.setConvolutionMathType(convDesc, c.mathType());
        return c;
    }

    /**
     * The first candidate that can run the problem (status success) under the allowed math:
     * with FMA math requested (float32, TF32 off) only an FMA algorithm qualifies, so TF32 never
     * slips in; otherwise the heuristics' best.
     */
    static Cudnn.AlgorithmPerf pick(List<Cudnn.AlgorithmPerf> candidates, int mathType, Object problem) {
        for (Cudnn.AlgorithmPerf p : candidates) {
            if (p.status() != Cudnn.STATUS_SUCCESS) continue;
            if (mathType == Cudnn.FMA_MATH && p.mathType() != Cudnn.FMA_MATH) continue;
            return p;
        }
        throw new UnsupportedOperationException("cuDNN offers no algorithm for " + problem + " (candidates: " + candidates + ")");
    }

    /** {N, Cin, H, W}; an unbatched input is one image. */
    private static int[] inputDims(CpuConvGeometry g) {
        return new int[] {g.batch(), g.inChannels(), g.inH(), g.inW()};
    }

    /** {N, Cout, Ho, Wo}. */
    private static int[] outputDims(CpuConvGeometry g) {
        return new int[] {g.batch(), g.outChannels(), g.outH(), g.outW()};
    }
}

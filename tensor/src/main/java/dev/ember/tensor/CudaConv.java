package dev.ember.tensor;

import dev.ember.ffi.Cudnn;
import dev.ember.memory.Device;
import dev.ember.tensor.cpu.CpuConvGeometry;
import dev.ember.tensor.cuda.CudnnDescriptors;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;

/**
 * conv2d and its gradients on CUDA through cuDNN, for {@link ConvKernels} once it has checked
 * the arguments: operands are made contiguous (NCHW), results are new contiguous tensors on the
 * operands' device, and every call is queued on the current stream.
 *
 * <p>Algorithms are chosen as PyTorch chooses them: by default ({@code torch.backends.cudnn.benchmark}
 * off, {@link Ember#setCudnnBenchmark}) the first that cuDNN's heuristics ({@code cudnnGet*Algorithm_v7})
 * rank runnable for the problem and that respects the math type allowed; in benchmark mode the
 * fastest that cuDNN measures ({@code cudnnFind*Algorithm}) under the same rule. Either way once per problem (shape, stride, padding,
 * dilation, groups, dtype, math type and direction, on one device) and then from a map. The
 * descriptor runs with the math type of the chosen algorithm, as cuDNN requires. Workspaces are
 * temporary tensors from the caching allocator.
 */
final class CudaConv {
    private CudaConv() {}

    /** The descriptors of one convolution problem: input (or its gradient), filter, convolution, output. */
    private record Descriptors(long x, long w, long conv, long y) {}

    /**
     * The three problems a convolution poses cuDNN, each with its own algorithms, workspace
     * query and call. Every call reads two of the operands x (input), w (weight) and y
     * (output) and writes the third: y for the forward, x for the data gradient (reading dy),
     * w for the filter gradient.
     */
    enum Direction {
        FORWARD(s -> new long[] {s.x(), s.w(), s.y()}, Cudnn::getConvolutionForwardAlgorithms,
                Cudnn::findConvolutionForwardAlgorithms, Cudnn::convolutionForwardWorkspaceSize) {
            @Override
            void run(long h, Descriptors s, Choice c, long ws, long x, long w, long y) {
                Cudnn.convolutionForward(h, 1, s.x(), x, s.w(), w, s.conv(), c.algo(), ws, c.workspaceBytes(), 0, s.y(), y);
            }
        },
        BACKWARD_DATA(s -> new long[] {s.w(), s.y(), s.x()}, Cudnn::getConvolutionBackwardDataAlgorithms,
                Cudnn::findConvolutionBackwardDataAlgorithms, Cudnn::convolutionBackwardDataWorkspaceSize) {
            @Override
            void run(long h, Descriptors s, Choice c, long ws, long x, long w, long y) {
                Cudnn.convolutionBackwardData(h, 1, s.w(), w, s.y(), y, s.conv(), c.algo(), ws, c.workspaceBytes(), 0, s.x(), x);
            }
        },
        BACKWARD_FILTER(s -> new long[] {s.x(), s.y(), s.w()}, Cudnn::getConvolutionBackwardFilterAlgorithms,
                Cudnn::findConvolutionBackwardFilterAlgorithms, Cudnn::convolutionBackwardFilterWorkspaceSize) {
            @Override
            void run(long h, Descriptors s, Choice c, long ws, long x, long w, long y) {
                Cudnn.convolutionBackwardFilter(h, 1, s.x(), x, s.y(), y, s.conv(), c.algo(), ws, c.workspaceBytes(), 0, s.w(), w);
            }
        };

        /** A cuDNN query over (handle, first descriptor, second, convolution, third) for the direction's algorithms. */
        @FunctionalInterface
        interface Search {
            List<Cudnn.AlgorithmPerf> apply(long handle, long a, long b, long conv, long c);
        }

        /** cuDNN's workspace query over the same descriptors, for one algorithm. */
        @FunctionalInterface
        interface Workspace {
            long apply(long handle, long a, long b, long conv, long c, int algo);
        }

        /** The tensor and filter descriptors in the order this direction's cuDNN calls take them (two read, one written). */
        private final Function<Descriptors, long[]> order;
        private final Search heuristic, timed;
        private final Workspace workspace;

        Direction(Function<Descriptors, long[]> order, Search heuristic, Search timed, Workspace workspace) {
            this.order = order;
            this.heuristic = heuristic;
            this.timed = timed;
            this.workspace = workspace;
        }

        /** The heuristics' ranking (cudnnGet*Algorithm_v7): nothing runs. */
        List<Cudnn.AlgorithmPerf> algorithms(long h, Descriptors s) {
            long[] d = order.apply(s);
            return heuristic.apply(h, d[0], d[1], s.conv(), d[2]);
        }

        /** Every candidate run once and timed, fastest first (cudnnFind*Algorithm, benchmark mode). */
        List<Cudnn.AlgorithmPerf> measured(long h, Descriptors s) {
            long[] d = order.apply(s);
            return timed.apply(h, d[0], d[1], s.conv(), d[2]);
        }

        long workspaceBytes(long h, Descriptors s, int algo) {
            long[] d = order.apply(s);
            return workspace.apply(h, d[0], d[1], s.conv(), d[2], algo);
        }

        abstract void run(long handle, Descriptors s, Choice c, long workspace, long x, long w, long y);
    }

    /** Everything an algorithm choice depends on. */
    record Key(int device, Direction direction, DType dtype, int mathType, boolean measured, CpuConvGeometry geometry) {}

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
        try (Tensor x = input.contiguousAs(t); Tensor w = weight.contiguousAs(t);
             Tensor b = bias == null ? null : bias.contiguousAs(t)) {
            if ((long) g.inChannels() * g.inH() * g.inW() == 0) {
                CudaOps.fill(y, 0); // an input with no channels or no pixels contributes no terms: the output is the bias alone
            } else {
                convolve(Direction.FORWARD, g, t, d, x, w, y);
            }
            if (b != null) {
                CudnnCalls.run(d, handle -> {
                    try (CudnnDescriptors desc = new CudnnDescriptors()) {
                        long yd = desc.tensor(t, outputDims(g)), bd = desc.tensor(t, new int[] {1, g.outChannels(), 1, 1});
                        Cudnn.addTensor(handle, 1, bd, CudnnCalls.address(b), 1, yd, CudnnCalls.address(y));
                    }
                });
            }
        }
        return y;
    }

    /** The gradient with respect to the input, of shape inputShape. */
    static Tensor backwardData(CpuConvGeometry g, DType t, Tensor gradOut, Tensor weight, long[] inputShape) {
        Device d = gradOut.device();
        Tensor dx = Tensor.empty(d, t, inputShape);
        if (dx.numel() == 0) return dx;
        try (Tensor dy = gradOut.contiguousAs(t); Tensor w = weight.contiguousAs(t)) {
            convolve(Direction.BACKWARD_DATA, g, t, d, dx, w, dy);
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
            convolve(Direction.BACKWARD_FILTER, g, t, d, x, dw, dy);
        }
        return dw;
    }

    /**
     * One cuDNN convolution call of {@code direction} on contiguous operands x (input or its
     * gradient), w (weight or its gradient) and y (output or its gradient), with the cached (or
     * newly chosen) algorithm and a workspace from the caching allocator.
     */
    private static void convolve(Direction direction, CpuConvGeometry g, DType t, Device d, Tensor x, Tensor w, Tensor y) {
        CudnnCalls.run(d, handle -> {
            try (CudnnDescriptors desc = new CudnnDescriptors()) {
                int math = CudnnDescriptors.convolutionMath(t, Ember.allowTf32Cudnn());
                Descriptors s = new Descriptors(desc.tensor(t, inputDims(g)), desc.filter(t, g), desc.convolution(g, t, math),
                        desc.tensor(t, outputDims(g)));
                boolean measure = Ember.cudnnBenchmark();
                Choice c = choose(new Key(d.index(), direction, t, math, measure, g), s.conv(),
                        () -> measure ? direction.measured(handle, s) : direction.algorithms(handle, s),
                        algo -> direction.workspaceBytes(handle, s, algo));
                try (Tensor ws = CudnnCalls.workspace(d, c.workspaceBytes())) {
                    direction.run(handle, s, c, CudnnCalls.address(ws), CudnnCalls.address(x), CudnnCalls.address(w),
                            CudnnCalls.address(y));
                }
            }
        });
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

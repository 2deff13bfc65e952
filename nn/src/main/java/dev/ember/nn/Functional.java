package dev.ember.nn;

import dev.ember.tensor.ClassIndexLosses;
import dev.ember.tensor.Generator;
import dev.ember.tensor.NeuralOps;
import dev.ember.tensor.Tensor;
import java.util.Arrays;

/**
 * The stateless forms of the layers, activations and losses, as {@code torch.nn.functional}:
 * each takes its parameters as arguments. Everything is differentiable; convolution, pooling,
 * batch norm and dropout come from {@link NeuralOps}, cross-entropy and NLL with class-index
 * targets are one fused op ({@link ClassIndexLosses}) where its kernels take the dtype, the rest
 * is composed from tensor ops.
 */
public final class Functional {
    private static final System.Logger LOG = System.getLogger(Functional.class.getName());

    private Functional() {}

    // ---------------------------------------------------------------- linear and convolution

    /**
     * input @ weight^T + bias, for input [..., in] and weight [out, in]; {@code bias} may be null.
     * Inputs of two or more dims go through one (add)mm over the flattened leading dims, so a
     * shape mismatch reads as PyTorch's: "mat1 and mat2 shapes cannot be multiplied (64x3136 and 3000x128)".
     */
    public static Tensor linear(Tensor input, Tensor weight, Tensor bias) {
        Tensor wt = weight.t();
        if (input.dim() < 2) {
            Tensor out = input.matmul(wt);
            return bias == null ? out : out.add(bias);
        }
        if (input.dim() == 2) return bias == null ? input.mm(wt) : bias.addmm(input, wt);
        long[] shape = input.shape();
        long rows = 1;
        for (int d = 0; d < shape.length - 1; d++) rows *= shape[d];
        Tensor flat = input.reshape(rows, shape[shape.length - 1]);
        shape[shape.length - 1] = weight.size(0);
        return (bias == null ? flat.mm(wt) : bias.addmm(flat, wt)).reshape(shape);
    }

    /** conv2d with stride 1, no padding, dilation 1 and one group. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias) {
        return conv2d(input, weight, bias, new int[] {1}, new int[] {0}, new int[] {1}, 1);
    }

    /** 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]); each window argument is one value or a pair. */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                int groups) {
        return NeuralOps.conv2d(input, weight, bias, Size2.of("stride", stride).toArray(),
                Size2.of("padding", padding).toArray(), Size2.of("dilation", dilation).toArray(), groups);
    }

    // ---------------------------------------------------------------- pooling

    /** Max pooling with a square window and stride equal to it. */
    public static Tensor maxPool2d(Tensor input, int kernelSize) {
        return maxPool2d(input, new int[] {kernelSize}, null, new int[] {0}, new int[] {1}, false);
    }

    /** @param stride null for the kernel size, as PyTorch's default */
    public static Tensor maxPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        Size2 kernel = Size2.of("kernel_size", kernelSize);
        return NeuralOps.maxPool2d(input, kernel.toArray(), strideOr(kernel, stride), Size2.of("padding", padding).toArray(),
                Size2.of("dilation", dilation).toArray(), ceilMode);
    }

    /** Average pooling with a square window and stride equal to it. */
    public static Tensor avgPool2d(Tensor input, int kernelSize) {
        return avgPool2d(input, new int[] {kernelSize}, null, new int[] {0}, false, true);
    }

    /** @param stride null for the kernel size, as PyTorch's default */
    public static Tensor avgPool2d(Tensor input, int[] kernelSize, int[] stride, int[] padding, boolean ceilMode,
                                   boolean countIncludePad) {
        Size2 kernel = Size2.of("kernel_size", kernelSize);
        return NeuralOps.avgPool2d(input, kernel.toArray(), strideOr(kernel, stride), Size2.of("padding", padding).toArray(),
                ceilMode, countIncludePad);
    }

    private static int[] strideOr(Size2 kernel, int[] stride) {
        return stride == null ? kernel.toArray() : Size2.of("stride", stride).toArray();
    }

    /** Average pooling to a fixed output size (one value or a pair). */
    public static Tensor adaptiveAvgPool2d(Tensor input, int... outputSize) {
        return NeuralOps.adaptiveAvgPool2d(input, Size2.of("output_size", outputSize).toArray());
    }

    // ---------------------------------------------------------------- normalisation and dropout

    /**
     * Batch normalisation over dim 1 of [N, C, ...]. With {@code training}, the batch's statistics
     * normalise and the running ones (when given) are updated in place with {@code momentum};
     * without, the running statistics normalise (and must be given). weight and bias may be null.
     */
    public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return NeuralOps.batchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    /**
     * Layer normalisation over the trailing dims given by {@code normalizedShape}: (x - mean) /
     * sqrt(var + eps) with the biased variance, then times weight plus bias (either may be null).
     */
    public static Tensor layerNorm(Tensor input, long[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        int k = normalizedShape.length;
        long[] shape = input.shape();
        boolean fits = k >= 1 && shape.length >= k
                && Arrays.equals(Arrays.copyOfRange(shape, shape.length - k, shape.length), normalizedShape);
        if (!fits) {
            throw new IllegalArgumentException("Given normalized_shape=" + Arrays.toString(normalizedShape)
                    + ", expected input with shape [*" + Arrays.toString(normalizedShape).replace("[", ", ")
                    + ", but got input of size" + Arrays.toString(shape));
        }
        checkAffineShape("weight", weight, normalizedShape);
        checkAffineShape("bias", bias, normalizedShape);
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) dims[i] = shape.length - k + i;
        Tensor mean = input.mean(dims, true);
        Tensor var = input.var(dims, 0, true);
        Tensor out = input.sub(mean).mul(var.add(eps).rsqrt());
        if (weight != null) out = out.mul(weight);
        if (bias != null) out = out.add(bias);
        return out;
    }

    private static void checkAffineShape(String name, Tensor t, long[] normalizedShape) {
        if (t != null && !Arrays.equals(t.shape(), normalizedShape)) {
            throw new IllegalArgumentException("Expected " + name + " to be of same shape as normalized_shape, but got " + name
                    + " of shape " + Arrays.toString(t.shape()) + " and normalized_shape = " + Arrays.toString(normalizedShape));
        }
    }

    /** Dropout drawing from the default generator. */
    public static Tensor dropout(Tensor input, double p, boolean training) {
        return dropout(input, p, training, Generator.defaultGenerator());
    }

    /** While training, zeroes each element with probability p and scales the rest by 1/(1-p); else the identity. */
    public static Tensor dropout(Tensor input, double p, boolean training, Generator generator) {
        return NeuralOps.dropout(input, p, training, generator);
    }

    // ---------------------------------------------------------------- embedding and activations

    /** Rows of {@code weight} [num, dim] picked by integer {@code indices} of any shape: indices.shape + [dim]. */
    public static Tensor embedding(Tensor indices, Tensor weight) {
        if (!indices.dtype().isIntegral() || indices.dtype().itemSize() < 4) {
            throw new IllegalArgumentException("Expected tensor for argument #1 'indices' to have one of the following scalar"
                    + " types: Long, Int; but got " + indices.dtype() + " instead (while checking arguments for embedding)");
        }
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("'weight' must be 2-D, got " + weight.dim() + "-D");
        }
        long[] shape = Arrays.copyOf(indices.shape(), indices.dim() + 1);
        shape[indices.dim()] = weight.size(1);
        // indexSelect's backward is an indexAdd: exactly the embedding's gradient, repeated indices summing
        return weight.indexSelect(0, indices.flatten()).reshape(shape);
    }

    public static Tensor relu(Tensor input) { return input.relu(); }

    /** Exact GELU. */
    public static Tensor gelu(Tensor input) { return input.gelu(); }

    /** @param approximate "none" (exact) or "tanh" */
    public static Tensor gelu(Tensor input, String approximate) { return input.gelu(approximate); }

    public static Tensor silu(Tensor input) { return input.silu(); }

    public static Tensor sigmoid(Tensor input) { return input.sigmoid(); }

    public static Tensor tanh(Tensor input) { return input.tanh(); }

    public static Tensor softmax(Tensor input, int dim) { return input.softmax(dim); }

    public static Tensor logSoftmax(Tensor input, int dim) { return input.logSoftmax(dim); }

    // ---------------------------------------------------------------- regression losses

    public static Tensor mseLoss(Tensor input, Tensor target) { return mseLoss(input, target, "mean"); }

    /** (input - target)^2, reduced. */
    public static Tensor mseLoss(Tensor input, Tensor target, String reduction) {
        Reduction r = Reduction.of(reduction);
        warnIfBroadcast(input, target);
        Tensor diff = input.sub(target);
        return r.apply(diff.mul(diff));
    }

    public static Tensor l1Loss(Tensor input, Tensor target) { return l1Loss(input, target, "mean"); }

    /** |input - target|, reduced. */
    public static Tensor l1Loss(Tensor input, Tensor target, String reduction) {
        Reduction r = Reduction.of(reduction);
        warnIfBroadcast(input, target);
        return r.apply(input.sub(target).abs());
    }

    /** PyTorch warns rather than fails here: the broadcast is legal, though rarely what was meant. */
    private static void warnIfBroadcast(Tensor input, Tensor target) {
        if (!Arrays.equals(input.shape(), target.shape())) {
            LOG.log(System.Logger.Level.WARNING, "Using a target size (" + Arrays.toString(target.shape())
                    + ") that is different to the input size (" + Arrays.toString(input.shape()) + "). This will likely lead"
                    + " to incorrect results due to broadcasting. Please ensure they have the same size.");
        }
    }

    // ---------------------------------------------------------------- classification losses

    /** Mean binary cross-entropy of logits without a positive-class weight. */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target) {
        return binaryCrossEntropyWithLogits(input, target, null, "mean");
    }

    /**
     * Binary cross-entropy of logits x against targets y in [0, 1]:
     * (1 - y) x + (1 + (posWeight - 1) y) softplus(-x), which without a posWeight is PyTorch's
     * max(x, 0) - x y + log1p(exp(-|x|)). softplus is evaluated stably (linear beyond a threshold
     * at which the dropped log1p(exp(-|x|)) is below float64 precision), so logits of +-100 give
     * finite losses and gradients, and its derivative is exact at x = 0 as well.
     *
     * @param posWeight weight of the positive class, broadcast against the target (per class); may be null
     */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor posWeight, String reduction) {
        Reduction r = Reduction.of(reduction);
        if (!Arrays.equals(input.shape(), target.shape())) {
            throw new IllegalArgumentException("Target size (" + Arrays.toString(target.shape()) + ") must be the same as input size ("
                    + Arrays.toString(input.shape()) + ")");
        }
        Tensor softplusNeg = input.neg().softplus(1, 40);
        Tensor logWeight = posWeight == null ? softplusNeg : posWeight.sub(1L).mul(target).add(1L).mul(softplusNeg);
        Tensor oneMinusTarget = target.neg().add(1L);
        return r.apply(oneMinusTarget.mul(input).add(logWeight));
    }

    /** Mean negative log-likelihood of log-probabilities, no class weights, ignore_index -100. */
    public static Tensor nllLoss(Tensor input, Tensor target) { return nllLoss(input, target, null, -100, "mean"); }

    /**
     * Negative log-likelihood: -weight[t] * input[n, t] for each target t = target[n, ...], with
     * input [N, C], [N, C, d1, ...] or unbatched [C] log-probabilities and int64 class targets
     * [N], [N, d1, ...] or []. Targets equal to {@code ignoreIndex} contribute 0 and are left out
     * of the mean's denominator, which is the sum of the weights of the counted targets.
     *
     * @param weight per-class weights [C], or null
     */
    public static Tensor nllLoss(Tensor input, Tensor target, Tensor weight, long ignoreIndex, String reduction) {
        Reduction r = Reduction.of(reduction);
        Batched b = Batched.of(input, target);
        if (ClassIndexLosses.fuses(b.input, weight)) {
            return b.unbatch(fusedClassIndexLoss(b.input, b.target, weight, ignoreIndex, r, 0, false));
        }
        return b.unbatch(classIndexLoss(b.input, b.target, weight, ignoreIndex, r, 0));
    }

    /** Mean cross-entropy of logits and class indices (or probabilities), ignore_index -100, no smoothing. */
    public static Tensor crossEntropy(Tensor input, Tensor target) { return crossEntropy(input, target, null, -100, "mean", 0); }

    /**
     * Cross-entropy of logits, computed stably through logSoftmax over dim 1 (dim 0 of an
     * unbatched [C] input). The target is either int64 class indices (as {@link #nllLoss}) or,
     * with the input's shape and a floating dtype, class probabilities.
     *
     * <p>Label smoothing ε mixes the one-hot target with the uniform distribution: the loss is
     * (1 - ε) nll + (ε / C) sum_c -weight[c] log p_c, the second term reduced like the first
     * (ignored targets excluded, the mean over the same weight sum), as PyTorch defines it.
     *
     * @param weight per-class weights [C], or null
     * @param labelSmoothing ε in [0, 1]
     */
    public static Tensor crossEntropy(Tensor input, Tensor target, Tensor weight, long ignoreIndex, String reduction,
                                      double labelSmoothing) {
        Reduction r = Reduction.of(reduction);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("label_smoothing must be between 0.0 and 1.0. Got: " + labelSmoothing);
        }
        if (target.dtype().isFloatingPoint() && Arrays.equals(input.shape(), target.shape())) {
            return crossEntropyWithProbabilities(input, target, weight, r, labelSmoothing);
        }
        Batched b = Batched.of(input, target);
        if (ClassIndexLosses.fuses(b.input, weight)) {
            return b.unbatch(fusedClassIndexLoss(b.input, b.target, weight, ignoreIndex, r, labelSmoothing, true));
        }
        return b.unbatch(classIndexLoss(b.input.logSoftmax(1), b.target, weight, ignoreIndex, r, labelSmoothing));
    }

    /**
     * {@link #classIndexLoss} as one fused op (cross-entropy of logits with
     * {@code logits}, else NLL of log-probabilities), after the same checks: the class dim of
     * [N, C, d1, ...] moved last so that each of the N * d1 * ... rows is one sample.
     */
    private static Tensor fusedClassIndexLoss(Tensor input, Tensor target, Tensor weight, long ignoreIndex, Reduction r,
                                              double smoothing, boolean logits) {
        ClassTargets.check(input, target, weight);
        long classes = input.size(1), rows = target.numel();
        Tensor flat = input;
        if (input.dim() > 2) {
            int[] classLast = new int[input.dim()];
            for (int d = 0, i = 0; d < classLast.length; d++) if (d != 1) classLast[i++] = d;
            classLast[classLast.length - 1] = 1;
            flat = input.permute(classLast).reshape(rows, classes);
        }
        Tensor targets = target.reshape(rows);
        ClassIndexLosses.Reduction reduce = switch (r) {
            case NONE -> ClassIndexLosses.Reduction.NONE;
            case MEAN -> ClassIndexLosses.Reduction.MEAN;
            case SUM -> ClassIndexLosses.Reduction.SUM;
        };
        Tensor loss = logits ? ClassIndexLosses.crossEntropy(flat, targets, weight, ignoreIndex, reduce, smoothing)
                : ClassIndexLosses.nllLoss(flat, targets, weight, ignoreIndex, reduce);
        // per-sample losses in the target's shape; a batch's [N] already is (no reshape node in the graph)
        return r == Reduction.NONE && target.dim() != 1 ? loss.reshape(target.shape()) : loss;
    }

    /**
     * NLL of batched log-probabilities [N, C, ...], with the smoothing term of cross-entropy when
     * {@code smoothing} > 0. The two terms share the mean's denominator, so they are combined per
     * element before reducing.
     */
    private static Tensor classIndexLoss(Tensor logProbs, Tensor target, Tensor weight, long ignoreIndex, Reduction r,
                                         double smoothing) {
        ClassTargets t = ClassTargets.of(logProbs, target, weight, ignoreIndex);
        // negated before weighting, so an ignored entry is +0.0 (as PyTorch prints it), not -0.0
        Tensor losses = logProbs.gather(1, t.safe().unsqueeze(1)).squeeze(1).neg().mul(t.weight());
        if (smoothing > 0) {
            Tensor uniform = weighted(logProbs, weight, 1).sum(1).neg().maskedFill(t.ignored(), 0);
            losses = losses.mul(1 - smoothing).add(uniform.mul(smoothing / logProbs.size(1)));
        }
        return switch (r) {
            case NONE -> losses;
            case SUM -> losses.sum();
            case MEAN -> losses.sum().div(t.weight().sum());
        };
    }

    /** Soft targets: -sum_c weight[c] q_c log p_c per sample, with q smoothed towards uniform; the mean is over samples. */
    private static Tensor crossEntropyWithProbabilities(Tensor input, Tensor target, Tensor weight, Reduction r,
                                                       double smoothing) {
        int classDim = input.dim() == 1 ? 0 : 1;
        long classes = input.size(classDim);
        Tensor q = smoothing == 0 ? target : target.mul(1 - smoothing).add(smoothing / classes);
        return r.apply(weighted(input.logSoftmax(classDim), weight, classDim).mul(q).sum(classDim).neg());
    }

    /** logProbs times the class weights laid along {@code classDim}; logProbs itself without weights. */
    private static Tensor weighted(Tensor logProbs, Tensor weight, int classDim) {
        if (weight == null) return logProbs;
        long[] shape = new long[logProbs.dim()];
        Arrays.fill(shape, 1);
        shape[classDim] = weight.numel();
        return logProbs.mul(weight.reshape(shape));
    }

    /**
     * An input/target pair with a batch dim: an unbatched [C] input and its 0-d target get a
     * batch of one, which {@link #unbatch} removes from a "none"-reduced result again.
     */
    private record Batched(Tensor input, Tensor target, boolean added) {
        static Batched of(Tensor input, Tensor target) {
            if (input.dim() < 1) throw new IllegalArgumentException("Expected 1 or more dimensions (got " + input.dim() + ")");
            if (input.dim() == 1) {
                if (target.dim() != 0) {
                    throw new IllegalArgumentException("0D or 1D target tensor expected, multi-target not supported");
                }
                return new Batched(input.unsqueeze(0), target.unsqueeze(0), true);
            }
            return new Batched(input, target, false);
        }

        Tensor unbatch(Tensor result) {
            return added && result.dim() > 0 ? result.squeeze(0) : result;
        }
    }
}

package dev.ember.nn;

import dev.ember.tensor.ClassIndexLosses;
import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;

/**
 * Class-index targets of NLLLoss and CrossEntropyLoss, checked and prepared once for both: the
 * input is [N, C, d1, ...] (an unbatched [C] input has been given a batch dim of 1), the target
 * [N, d1, ...] of int64 class indices.
 *
 * @param safe    the target with ignored entries replaced by class 0, so it can index (their weight is 0)
 * @param ignored true where the target equals ignore_index
 * @param weight  each entry's weight: {@code classWeight[target]}, or 1, and 0 where ignored;
 *                its sum is the denominator of the "mean" reduction
 */
record ClassTargets(Tensor safe, Tensor ignored, Tensor weight) {

    /** Checks {@code target} against {@code input} (shape, dtype, range) before anything indexes with it. */
    static ClassTargets of(Tensor input, Tensor target, Tensor classWeight, long ignoreIndex) {
        checkShapesAndType(input, target);
        long classes = input.size(1);
        checkRange(target, classes, ignoreIndex);
        Tensor ignored = target.eq(ignoreIndex);
        Tensor safe = target.maskedFill(ignored, 0);
        Tensor weight;
        if (classWeight == null) {
            weight = ignored.logicalNot().to(input.dtype());
        } else {
            checkWeight(classWeight, classes);
            weight = classWeight.indexSelect(0, safe.flatten()).reshape(safe.shape()).maskedFill(ignored, 0);
        }
        return new ClassTargets(safe, ignored, weight);
    }

    /**
     * The checks of {@link #of} except the range of the targets, for the fused loss, whose
     * kernels check the range themselves as they read the targets.
     */
    static void check(Tensor input, Tensor target, Tensor classWeight) {
        checkShapesAndType(input, target);
        if (classWeight != null) checkWeight(classWeight, input.size(1));
    }

    private static void checkShapesAndType(Tensor input, Tensor target) {
        checkShapes(input, target);
        if (target.dtype() != DType.INT64) {
            throw new IllegalArgumentException("expected scalar type Long but found " + scalarTypeName(target.dtype()));
        }
    }

    private static void checkWeight(Tensor classWeight, long classes) {
        if (classWeight.dim() != 1 || classWeight.numel() != classes) {
            throw new IllegalArgumentException("weight tensor should be defined either for all " + classes
                    + " classes or no classes but got weight tensor of shape: " + java.util.Arrays.toString(classWeight.shape()));
        }
    }

    /** PyTorch's nll_loss_nd checks: a batch dim matching the input's, then the spatial dims. */
    private static void checkShapes(Tensor input, Tensor target) {
        if (target.dim() == 0 || input.size(0) != target.size(0)) {
            throw new IllegalArgumentException("Expected input batch_size (" + input.size(0) + ") to match target batch_size ("
                    + (target.dim() == 0 ? 0 : target.size(0)) + ").");
        }
        if (input.dim() == 2 && target.dim() != 1) {
            throw new IllegalArgumentException("0D or 1D target tensor expected, multi-target not supported");
        }
        long[] expected = new long[input.dim() - 1];
        expected[0] = input.size(0);
        for (int d = 2; d < input.dim(); d++) expected[d - 1] = input.size(d);
        if (!java.util.Arrays.equals(expected, target.shape())) {
            throw new IllegalArgumentException("Expected target size " + java.util.Arrays.toString(expected) + ", got "
                    + java.util.Arrays.toString(target.shape()));
        }
    }

    /** Fails on the first target (in order) that is neither a class index nor ignore_index, before any gather. */
    private static void checkRange(Tensor target, long classes, long ignoreIndex) {
        Tensor bad = target.lt(0).logicalOr(target.ge(classes)).logicalAnd(target.ne(ignoreIndex));
        if (bad.any().item() == 0) return;
        long at = bad.flatten().to(DType.INT64).argmax().itemLong();
        throw ClassIndexLosses.targetOutOfBounds(target.flatten().select(0, at).itemLong(), classes, ignoreIndex);
    }

    /** The C++ scalar type names PyTorch's dtype errors use. */
    private static String scalarTypeName(DType t) {
        return switch (t) {
            case BOOL -> "Bool";
            case UINT8 -> "Byte";
            case INT32 -> "Int";
            case INT64 -> "Long";
            case FLOAT16 -> "Half";
            case BFLOAT16 -> "BFloat16";
            case FLOAT32 -> "Float";
            case FLOAT64 -> "Double";
        };
    }
}

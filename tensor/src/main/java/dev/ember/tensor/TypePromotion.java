package dev.ember.tensor;

/**
 * PyTorch's result-type rules (torch.result_type): tensors with dimensions decide first,
 * then zero-dim tensors, then Java scalars, and a lower-priority operand only matters when its
 * category (bool &lt; integral &lt; floating) is higher. So {@code int32 + 2.5 -> float32},
 * {@code float16 + 2.5 -> float16}, {@code uint8 + 1 -> uint8}.
 */
public final class TypePromotion {
    private TypePromotion() {}

    /** The dtype a Java scalar has when it takes part in promotion. */
    public static DType scalarType(Number value) {
        return value instanceof Double || value instanceof Float ? DType.defaultFloat() : DType.INT64;
    }

    /** Result type of a binary op between two tensors. */
    public static DType resultType(Tensor a, Tensor b) {
        DType dim = null, zero = null;
        for (Tensor t : new Tensor[] {a, b}) {
            if (t.dim() > 0) dim = dim == null ? t.dtype() : DType.promote(dim, t.dtype());
            else zero = zero == null ? t.dtype() : DType.promote(zero, t.dtype());
        }
        return combine(dim, zero);
    }

    /** Result type of a binary op between a tensor and a Java scalar of the given dtype. */
    public static DType resultType(Tensor a, DType scalar) {
        return combine(a.dtype(), scalar);
    }

    /** combine_categories: the higher-priority type wins unless the lower one is of a higher category. */
    static DType combine(DType higher, DType lower) {
        if (higher == null) return lower;
        if (lower == null) return higher;
        if (higher.isFloatingPoint()) return higher;
        if (higher == DType.BOOL || lower.isFloatingPoint()) return DType.promote(higher, lower);
        return higher;
    }

    /** Whether a value of type {@code from} may be written into {@code to} by an in-place op (torch.can_cast). */
    public static boolean canCast(DType from, DType to) {
        if (from.isFloatingPoint() && !to.isFloatingPoint()) return false;
        if (from != DType.BOOL && to == DType.BOOL) return false;
        return true;
    }

    /** PyTorch's ScalarType name (Float, Long, ...) used in its cast messages. */
    static String scalarTypeName(DType t) {
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

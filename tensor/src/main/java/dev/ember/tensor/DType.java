package dev.ember.tensor;

/**
 * Element types, named and promoted as in PyTorch. float16 and bfloat16 are stored compactly
 * (two bytes) and computed in float32.
 */
public enum DType {
    BOOL("bool", 1, Kind.BOOL, 0),
    UINT8("uint8", 1, Kind.INTEGRAL, 1),
    INT32("int32", 4, Kind.INTEGRAL, 3),
    INT64("int64", 8, Kind.INTEGRAL, 4),
    FLOAT16("float16", 2, Kind.FLOATING, 5),
    BFLOAT16("bfloat16", 2, Kind.FLOATING, 5),
    FLOAT32("float32", 4, Kind.FLOATING, 6),
    FLOAT64("float64", 8, Kind.FLOATING, 7);

    /** The category that decides promotion between a tensor and a Java scalar. */
    public enum Kind { BOOL, INTEGRAL, FLOATING }

    private final String torchName;
    private final int itemSize;
    private final Kind kind;
    private final int rank;

    DType(String torchName, int itemSize, Kind kind, int rank) {
        this.torchName = torchName;
        this.itemSize = itemSize;
        this.kind = kind;
        this.rank = rank;
    }

    /** Bytes per element. */
    public int itemSize() { return itemSize; }

    public Kind kind() { return kind; }

    public boolean isFloatingPoint() { return kind == Kind.FLOATING; }

    public boolean isIntegral() { return kind == Kind.INTEGRAL; }

    public boolean isBool() { return kind == Kind.BOOL; }

    /** The dtype arithmetic is carried out in: float16/bfloat16 compute in float32. */
    public DType computeType() { return this == FLOAT16 || this == BFLOAT16 ? FLOAT32 : this; }

    /** The name PyTorch prints, e.g. {@code torch.float16} without the prefix. */
    public String torchName() { return torchName; }

    /** The default floating dtype (float32), as torch.get_default_dtype(). */
    public static DType defaultFloat() { return FLOAT32; }

    /**
     * torch.promote_types: the smallest dtype both can be represented in. float16 with
     * bfloat16 gives float32; uint8 with a signed integer widens to the signed one.
     */
    public static DType promote(DType a, DType b) {
        if (a == b) return a;
        if ((a == FLOAT16 && b == BFLOAT16) || (a == BFLOAT16 && b == FLOAT16)) return FLOAT32;
        return a.rank >= b.rank ? a : b;
    }

    @Override
    public String toString() { return torchName; }
}

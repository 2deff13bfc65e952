package dev.ember.tensor.cpu;

import dev.ember.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads and writes single elements of any dtype at a byte offset, as double or long. This is the
 * general (strided, any-dtype) path; contiguous float32 work goes through the Vector API instead.
 * Conversions follow PyTorch's casts: float to integer truncates toward zero, anything to bool is
 * "non-zero", integers wrap into uint8.
 */
public final class Elements {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Elements() {}

    public static double getDouble(MemorySegment s, DType t, long byteOffset) {
        return switch (t) {
            case FLOAT32 -> s.get(F32, byteOffset);
            case FLOAT64 -> s.get(F64, byteOffset);
            case FLOAT16 -> Float.float16ToFloat(s.get(I16, byteOffset));
            case BFLOAT16 -> bf16ToFloat(s.get(I16, byteOffset));
            case INT32 -> s.get(I32, byteOffset);
            case INT64 -> s.get(I64, byteOffset);
            case UINT8 -> s.get(ValueLayout.JAVA_BYTE, byteOffset) & 0xFF;
            case BOOL -> s.get(ValueLayout.JAVA_BYTE, byteOffset) != 0 ? 1 : 0;
        };
    }

    public static long getLong(MemorySegment s, DType t, long byteOffset) {
        return switch (t) {
            case INT32 -> s.get(I32, byteOffset);
            case INT64 -> s.get(I64, byteOffset);
            case UINT8 -> s.get(ValueLayout.JAVA_BYTE, byteOffset) & 0xFF;
            case BOOL -> s.get(ValueLayout.JAVA_BYTE, byteOffset) != 0 ? 1 : 0;
            default -> (long) getDouble(s, t, byteOffset);
        };
    }

    public static void putDouble(MemorySegment s, DType t, long byteOffset, double v) {
        switch (t) {
            case FLOAT32 -> s.set(F32, byteOffset, (float) v);
            case FLOAT64 -> s.set(F64, byteOffset, v);
            case FLOAT16 -> s.set(I16, byteOffset, Float.floatToFloat16((float) v));
            case BFLOAT16 -> s.set(I16, byteOffset, floatToBf16((float) v));
            case BOOL -> s.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) (v != 0 ? 1 : 0));
            default -> putLong(s, t, byteOffset, (long) v);
        }
    }

    public static void putLong(MemorySegment s, DType t, long byteOffset, long v) {
        switch (t) {
            case INT32 -> s.set(I32, byteOffset, (int) v);
            case INT64 -> s.set(I64, byteOffset, v);
            case UINT8 -> s.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) v);
            case BOOL -> s.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) (v != 0 ? 1 : 0));
            default -> putDouble(s, t, byteOffset, v);
        }
    }

    /** bfloat16 is the upper half of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds a float32 to bfloat16, to nearest even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}

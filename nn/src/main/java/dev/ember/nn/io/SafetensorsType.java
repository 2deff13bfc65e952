package dev.ember.nn.io;

import dev.ember.tensor.DType;
import java.util.Set;

/**
 * The safetensors dtype codes Ember can store. {@link #rank} is the code's place in the reference
 * implementation's dtype order: its writer lays tensors out by descending rank and then by name,
 * which keeps every tensor aligned to its element size, and Ember writes the same order so that its
 * files are byte for byte what the reference would write.
 */
enum SafetensorsType {
    BOOL("BOOL", DType.BOOL, 0),
    U8("U8", DType.UINT8, 1),
    F16("F16", DType.FLOAT16, 2),
    BF16("BF16", DType.BFLOAT16, 3),
    I32("I32", DType.INT32, 4),
    F32("F32", DType.FLOAT32, 5),
    F64("F64", DType.FLOAT64, 6),
    I64("I64", DType.INT64, 7);

    /** Codes of the format that Ember has no dtype for: named as unsupported rather than unknown. */
    private static final Set<String> UNSUPPORTED = Set.of(
            "I8", "I16", "U16", "U32", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");

    final String code;
    final DType dtype;
    final int rank;

    SafetensorsType(String code, DType dtype, int rank) {
        this.code = code;
        this.dtype = dtype;
        this.rank = rank;
    }

    static SafetensorsType of(DType dtype) {
        for (SafetensorsType t : values()) {
            if (t.dtype == dtype) return t;
        }
        throw new IllegalArgumentException("dtype " + dtype + " has no safetensors code");
    }

    /** The type for {@code code}, or null with {@link #describeUnknown} to say why. */
    static SafetensorsType ofCode(String code) {
        for (SafetensorsType t : values()) {
            if (t.code.equals(code)) return t;
        }
        return null;
    }

    static String describeUnknown(String code) {
        StringBuilder supported = new StringBuilder();
        for (SafetensorsType t : values()) supported.append(supported.isEmpty() ? "" : ", ").append(t.code);
        return UNSUPPORTED.contains(code)
                ? "dtype " + code + ", which Ember does not support (supported: " + supported + ")"
                : "unknown dtype '" + HeaderParser.abbreviate(code) + "' (supported: " + supported + ")";
    }
}

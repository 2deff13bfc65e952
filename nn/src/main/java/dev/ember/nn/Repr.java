package dev.ember.nn;

import java.math.BigDecimal;

/**
 * Python's spelling of values in module reprs, so that {@code toString()} reads exactly as
 * PyTorch prints the same model: {@code 1e-05}, {@code True}, {@code (10,)}.
 */
final class Repr {
    private Repr() {}

    /** Python's repr of a float: the shortest round-tripping digits, scientific outside [1e-4, 1e16). */
    static String pyFloat(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return (1 / v < 0) ? "-0.0" : "0.0";
        // Double.toString gives the shortest digits that round-trip, as Python's repr does
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = d.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String sign = v < 0 ? "-" : "";
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    static String pyBool(boolean b) { return b ? "True" : "False"; }

    /** A Python tuple: {@code (10,)} for one element, {@code (3, 4)} for more. */
    static String tuple(long... values) {
        StringBuilder out = new StringBuilder("(");
        for (int i = 0; i < values.length; i++) out.append(i == 0 ? "" : ", ").append(values[i]);
        return out.append(values.length == 1 ? ",)" : ")").toString();
    }

    static String tuple(int... values) {
        long[] wide = new long[values.length];
        for (int i = 0; i < values.length; i++) wide[i] = values[i];
        return tuple(wide);
    }
}

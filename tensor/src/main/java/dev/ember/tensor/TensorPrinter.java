package dev.ember.tensor;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Formats a tensor the way PyTorch prints it: {@code tensor([[1.0000, 2.0000], ...])}, four
 * decimals or scientific notation chosen from the magnitudes of the finite non-zero values,
 * "1." style when every value is integral, right-aligned columns, lines wrapped at 80
 * characters, summarised with "..." (three edge items) past 1000 elements, and the dtype shown
 * unless it is float32, int64 or bool. Numbers are rounded half-even on their exact binary
 * value, as Python's format does.
 */
final class TensorPrinter {
    private static final int PRECISION = 4;
    private static final int THRESHOLD = 1000;
    private static final int EDGE_ITEMS = 3;
    private static final int LINE_WIDTH = 80;
    private static final String PREFIX = "tensor(";

    private TensorPrinter() {}

    static String format(Tensor t) {
        if (t.isCuda()) { // the values are read from a host copy (waiting for the tensor's stream only)
            try (Tensor host = t.hostContiguousAs(t.dtype)) {
                return format(host, "device='" + t.device() + "'");
            }
        }
        return format(t, null);
    }

    /** {@code device}: PyTorch's first suffix, for a tensor not on the CPU; null for none. */
    private static String format(Tensor t, String device) {
        List<String> suffixes = new ArrayList<>();
        if (device != null) suffixes.add(device);
        String body;
        int indent = PREFIX.length();
        if (t.numel() == 0) {
            if (t.dim() != 1) suffixes.add("size=" + pythonTuple(t.shape));
            body = "[]";
        } else {
            boolean summarize = t.numel() > THRESHOLD;
            Formatter f = new Formatter(t.dtype, summarize ? summarizedValues(t) : allValues(t));
            body = render(t, new long[0], indent, summarize, f);
        }
        if (t.dtype != DType.FLOAT32 && t.dtype != DType.INT64 && t.dtype != DType.BOOL) {
            suffixes.add("dtype=torch." + t.dtype.torchName());
        }
        return addSuffixes(PREFIX + body, suffixes, indent);
    }

    /** The sub-tensor at a prefix of indices, rendered recursively as PyTorch's _tensor_str_with_formatter. */
    private static String render(Tensor t, long[] prefix, int indent, boolean summarize, Formatter f) {
        int dim = t.dim() - prefix.length;
        if (dim == 0) return f.format(value(t, prefix));
        long size = t.shape[prefix.length];
        boolean cut = summarize && size > 2 * EDGE_ITEMS;
        if (dim == 1) {
            List<String> data = new ArrayList<>();
            for (long i = 0; i < size; i++) {
                if (cut && i == EDGE_ITEMS) {
                    data.add(" ...");
                    i = size - EDGE_ITEMS;
                }
                data.add(f.format(value(t, append(prefix, i))));
            }
            int elementLength = f.width + 2;
            int perLine = Math.max(1, (LINE_WIDTH - indent) / elementLength);
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < data.size(); i++) {
                if (i > 0) sb.append(i % perLine == 0 ? ",\n" + " ".repeat(indent + 1) : ", ");
                sb.append(data.get(i));
            }
            return sb.append(']').toString();
        }
        List<String> slices = new ArrayList<>();
        for (long i = 0; i < size; i++) {
            if (cut && i == EDGE_ITEMS) {
                slices.add("...");
                i = size - EDGE_ITEMS;
            }
            slices.add(render(t, append(prefix, i), indent + 1, summarize, f));
        }
        String separator = "," + "\n".repeat(dim - 1) + " ".repeat(indent + 1);
        return "[" + String.join(separator, slices) + "]";
    }

    private static String addSuffixes(String tensorStr, List<String> suffixes, int indent) {
        StringBuilder sb = new StringBuilder(tensorStr);
        int lastLineLength = tensorStr.length() - tensorStr.lastIndexOf('\n') + 1;
        for (String suffix : suffixes) {
            if (lastLineLength + suffix.length() + 2 > LINE_WIDTH) {
                sb.append(",\n").append(" ".repeat(indent)).append(suffix);
                lastLineLength = indent + suffix.length();
            } else {
                sb.append(", ").append(suffix);
                lastLineLength += suffix.length() + 2;
            }
        }
        return sb.append(')').toString();
    }

    private static double value(Tensor t, long[] index) {
        return t.get(index);
    }

    private static long[] append(long[] prefix, long i) {
        long[] out = java.util.Arrays.copyOf(prefix, prefix.length + 1);
        out[prefix.length] = i;
        return out;
    }

    private static List<Double> allValues(Tensor t) {
        List<Double> out = new ArrayList<>();
        for (long i = 0, n = t.numel(); i < n; i++) out.add(t.getFlat(i));
        return out;
    }

    /** The values that are printed when summarising: the edge items of every dim. */
    private static List<Double> summarizedValues(Tensor t) {
        List<Double> out = new ArrayList<>();
        collectEdges(t, new long[0], out);
        return out;
    }

    private static void collectEdges(Tensor t, long[] prefix, List<Double> out) {
        if (prefix.length == t.dim()) {
            out.add(t.get(prefix));
            return;
        }
        long size = t.shape[prefix.length];
        for (long i = 0; i < size; i++) {
            if (size > 2 * EDGE_ITEMS && i == EDGE_ITEMS) i = size - EDGE_ITEMS;
            collectEdges(t, append(prefix, i), out);
        }
    }

    private static String pythonTuple(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(shape[i]);
        }
        if (shape.length == 1) sb.append(',');
        return sb.append(')').toString();
    }

    /** PyTorch's _Formatter: picks the notation and the column width from the values shown. */
    private static final class Formatter {
        private final DType dtype;
        private boolean intMode = true;
        private boolean sciMode;
        int width = 1;

        Formatter(DType dtype, List<Double> values) {
            this.dtype = dtype;
            if (!dtype.isFloatingPoint()) {
                for (double v : values) width = Math.max(width, format0(v).length());
                return;
            }
            double min = Double.POSITIVE_INFINITY, max = 0;
            boolean any = false;
            for (double v : values) {
                if (!Double.isFinite(v) || v == 0) continue;
                any = true;
                min = Math.min(min, Math.abs(v));
                max = Math.max(max, Math.abs(v));
                if (v != Math.ceil(v)) intMode = false;
            }
            if (!any) return;
            boolean wide = max / min > 1000 || max > 1e8;
            sciMode = intMode ? wide : wide || min < 1e-4;
            for (double v : values) {
                if (!Double.isFinite(v) || v == 0) continue;
                int len = sciMode ? sci(v).length() : intMode ? fixed(v, 0).length() + 1 : fixed(v, PRECISION).length();
                width = Math.max(width, len);
            }
        }

        String format(double v) {
            return pad(format0(v));
        }

        private String format0(double v) {
            if (dtype == DType.BOOL) return v != 0 ? "True" : "False";
            if (!dtype.isFloatingPoint()) return Long.toString((long) v);
            if (Double.isNaN(v)) return "nan";
            if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
            if (sciMode) return sci(v);
            if (intMode) return fixed(v, 0) + ".";
            return fixed(v, PRECISION);
        }

        private String pad(String s) {
            return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
        }
    }

    /** Python's '{:.Nf}': the exact binary value rounded half-even. */
    static String fixed(double v, int decimals) {
        String s = new BigDecimal(Math.abs(v)).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
        return (negative(v) ? "-" : "") + s;
    }

    /** Python's '{:.4e}', e.g. 1.2346e+08. */
    static String sci(double v) {
        if (v == 0) return (negative(v) ? "-" : "") + "0." + "0".repeat(PRECISION) + "e+00";
        BigDecimal rounded = new BigDecimal(Math.abs(v)).round(new MathContext(PRECISION + 1, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        BigDecimal mantissa = rounded.movePointLeft(exponent).setScale(PRECISION, RoundingMode.HALF_EVEN);
        String exp = String.format("%s%02d", exponent < 0 ? "-" : "+", Math.abs(exponent));
        return (negative(v) ? "-" : "") + mantissa.toPlainString() + "e" + exp;
    }

    private static boolean negative(double v) {
        return v < 0 || (v == 0 && 1 / v < 0);
    }
}

package dev.ember.nn.io;

import dev.ember.tensor.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict parser for the one JSON shape a safetensors header may take:
 *
 * <pre>{"__metadata__": {"key": "value", ...},
 *  "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}</pre>
 *
 * <p>It follows RFC 8259 (no comments, trailing commas, single quotes, NaN or lone surrogates) and
 * parses against that schema rather than building a general JSON tree, so nesting is bounded and
 * nothing a file says can make it recurse or allocate beyond the header's own size. Duplicate keys,
 * unknown fields and anything after the closing brace other than whitespace (the writer pads with
 * spaces) are errors rather than being silently resolved one way or another.
 */
final class HeaderParser {
    static final String METADATA_KEY = "__metadata__";
    /** How much of a name or number an error message repeats. */
    private static final int MAX_QUOTED = 200;

    private final String json;
    private final Path file;
    private int pos;

    private HeaderParser(String json, Path file) {
        this.json = json;
        this.file = file;
    }

    /** The parsed header; offsets are checked against the data buffer separately, by {@link HeaderLayout}. */
    static Header parse(String json, Path file, long headerLength) throws CheckpointException {
        return new HeaderParser(json, file).header(headerLength);
    }

    private Header header(long headerLength) throws CheckpointException {
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = null;
        skipWhitespace();
        expect('{', "the header must be a JSON object");
        skipWhitespace();
        if (!tryConsume('}')) {
            do {
                skipWhitespace();
                int keyAt = pos;
                String key = string();
                colon();
                if (key.equals(METADATA_KEY)) {
                    if (metadata != null) throw malformed(keyAt, "duplicate key \"" + METADATA_KEY + "\"");
                    metadata = metadata();
                } else {
                    if (tensors.containsKey(key)) throw malformed(keyAt, "duplicate tensor name " + quote(key));
                    tensors.put(key, tensor(key));
                }
                skipWhitespace();
            } while (tryConsume(','));
            expect('}', "expected ',' or '}' after a header entry");
        }
        skipWhitespace();
        if (pos != json.length()) throw malformed(pos, "unexpected content after the header object");
        return new Header(new ArrayList<>(tensors.values()), metadata == null ? Map.of() : metadata, headerLength);
    }

    private Map<String, String> metadata() throws CheckpointException {
        Map<String, String> metadata = new LinkedHashMap<>();
        expect('{', "\"" + METADATA_KEY + "\" must be an object of strings");
        skipWhitespace();
        if (tryConsume('}')) return metadata;
        do {
            skipWhitespace();
            int keyAt = pos;
            String key = string();
            colon();
            if (peek() != '"') throw malformed(pos, "metadata value for " + quote(key) + " must be a string");
            if (metadata.put(key, string()) != null) throw malformed(keyAt, "duplicate metadata key " + quote(key));
            skipWhitespace();
        } while (tryConsume(','));
        expect('}', "expected ',' or '}' in \"" + METADATA_KEY + "\"");
        return metadata;
    }

    private TensorEntry tensor(String name) throws CheckpointException {
        String what = "tensor " + quote(name);
        expect('{', what + " must be described by an object");
        DType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        skipWhitespace();
        if (!tryConsume('}')) {
            do {
                skipWhitespace();
                int fieldAt = pos;
                String field = string();
                colon();
                boolean seen = switch (field) {
                    case "dtype" -> dtype != null;
                    case "shape" -> shape != null;
                    case "data_offsets" -> offsets != null;
                    default -> throw malformed(fieldAt, what + " has an unknown field " + quote(field));
                };
                if (seen) throw malformed(fieldAt, what + " has field " + quote(field) + " twice");
                switch (field) {
                    case "dtype" -> dtype = dtype(what);
                    case "shape" -> shape = integers(what + " shape", -1);
                    default -> offsets = integers(what + " data_offsets", 2);
                }
                skipWhitespace();
            } while (tryConsume(','));
            expect('}', "expected ',' or '}' in the entry of " + what);
        }
        if (dtype == null) throw problem(what + " has no \"dtype\"");
        if (shape == null) throw problem(what + " has no \"shape\"");
        if (offsets == null) throw problem(what + " has no \"data_offsets\"");
        return new TensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private DType dtype(String what) throws CheckpointException {
        int at = pos;
        if (peek() != '"') throw malformed(at, what + " dtype must be a string");
        String code = string();
        SafetensorsType type = SafetensorsType.ofCode(code);
        if (type == null) throw problem(what + " has " + SafetensorsType.describeUnknown(code));
        return type.dtype;
    }

    /** An array of non-negative integers; exactly {@code count} of them unless count is -1. */
    private long[] integers(String what, int count) throws CheckpointException {
        expect('[', what + " must be an array");
        List<Long> values = new ArrayList<>();
        skipWhitespace();
        if (!tryConsume(']')) {
            do {
                skipWhitespace();
                values.add(nonNegativeInteger(what));
                skipWhitespace();
            } while (tryConsume(','));
            expect(']', "expected ',' or ']' in " + what);
        }
        if (count >= 0 && values.size() != count) {
            throw problem(what + " must have " + count + " entries, not " + values.size());
        }
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    private long nonNegativeInteger(String what) throws CheckpointException {
        int start = pos;
        boolean negative = tryConsume('-');
        int digitsStart = pos;
        while (pos < json.length() && isDigit(json.charAt(pos))) pos++;
        if (pos == digitsStart) throw malformed(start, "expected a number in " + what);
        if (json.charAt(digitsStart) == '0' && pos - digitsStart > 1) {
            throw malformed(start, "a number may not have leading zeros, in " + what);
        }
        if (pos < json.length() && (json.charAt(pos) == '.' || json.charAt(pos) == 'e' || json.charAt(pos) == 'E')) {
            throw malformed(start, what + " must hold integers");
        }
        String digits = json.substring(digitsStart, pos);
        if (negative) {
            throw problem(what + " holds a negative value -" + abbreviate(digits));
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException tooLarge) {
            throw problem(what + " holds " + abbreviate(digits) + ", which is too large");
        }
    }

    /** A JSON string, escapes decoded; unescaped control characters and lone surrogates are errors. */
    private String string() throws CheckpointException {
        int start = pos;
        expect('"', "expected a string");
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= json.length()) throw malformed(start, "unterminated string");
            char c = json.charAt(pos++);
            if (c == '"') return out.toString();
            if (c < 0x20) throw malformed(pos - 1, "unescaped control character in a string");
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= json.length()) throw malformed(start, "unterminated string");
            char e = json.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> out.append(unicodeEscape());
                default -> throw malformed(pos - 2, "invalid escape '\\" + e + "'");
            }
        }
    }

    /** The character(s) of a \\u escape whose 'u' was just read, joining a surrogate pair. */
    private String unicodeEscape() throws CheckpointException {
        int at = pos - 2;
        char c = hex4();
        if (Character.isLowSurrogate(c)) throw malformed(at, "lone low surrogate in a \\u escape");
        if (!Character.isHighSurrogate(c)) return String.valueOf(c);
        if (!json.startsWith("\\u", pos)) throw malformed(at, "lone high surrogate in a \\u escape");
        pos += 2;
        char low = hex4();
        if (!Character.isLowSurrogate(low)) throw malformed(at, "high surrogate not followed by a low surrogate");
        return new String(new char[] {c, low});
    }

    private char hex4() throws CheckpointException {
        if (pos + 4 > json.length()) throw malformed(pos, "truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = hexDigit(json.charAt(pos + i));
            if (d < 0) throw malformed(pos, "invalid hex digit in a \\u escape");
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private void colon() throws CheckpointException {
        skipWhitespace();
        expect(':', "expected ':' after a key");
        skipWhitespace();
    }

    private void skipWhitespace() {
        while (pos < json.length()) {
            char c = json.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private int peek() { return pos < json.length() ? json.charAt(pos) : -1; }

    private boolean tryConsume(char c) {
        if (peek() != c) return false;
        pos++;
        return true;
    }

    private void expect(char c, String message) throws CheckpointException {
        if (!tryConsume(c)) throw malformed(pos, message);
    }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    /** ASCII hex only: Character.digit would also take other scripts' digits. */
    private static int hexDigit(char c) {
        if (isDigit(c)) return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    private CheckpointException malformed(int at, String message) {
        String found = at < json.length() ? "found " + describe(json.charAt(at)) : "found the end of the header";
        return new CheckpointException(file, "malformed header JSON at character " + at + ": " + message + " (" + found + ")");
    }

    private CheckpointException problem(String message) {
        return new CheckpointException(file, message);
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    /** A name as the file spells it, quoted and escaped for a message. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : abbreviate(s).toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    /** A corrupt file's huge names and numbers, cut short for a message. */
    static String abbreviate(String s) {
        return s.length() <= MAX_QUOTED ? s : s.substring(0, MAX_QUOTED) + "...(" + s.length() + " characters)";
    }
}

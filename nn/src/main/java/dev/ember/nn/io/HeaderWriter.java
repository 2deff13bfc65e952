package dev.ember.nn.io;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Serialises a header the way the reference implementation does (serde_json, compact): metadata
 * first, then the tensors in data order, each as {"dtype":..,"shape":[..],"data_offsets":[b,e]},
 * strings escaped as serde_json escapes them, and the UTF-8 bytes padded with spaces to a multiple
 * of 8 so the data buffer starts aligned. The reference keeps metadata in a hash map, so its order
 * there is arbitrary; Ember sorts metadata keys so that its own output is deterministic.
 */
final class HeaderWriter {
    private HeaderWriter() {}

    /** The padded header bytes; {@code tensors} must already be in data order with their offsets. */
    static byte[] write(List<TensorEntry> tensors, Map<String, String> metadata) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append('"').append(HeaderParser.METADATA_KEY).append("\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : sortedByCodePoint(metadata).entrySet()) {
                if (!first) json.append(',');
                first = false;
                string(json, e.getKey()).append(':');
                string(json, e.getValue());
            }
            json.append('}');
        }
        for (TensorEntry t : tensors) {
            if (json.length() > 1) json.append(',');
            string(json, t.name()).append(":{\"dtype\":\"").append(SafetensorsType.of(t.dtype()).code).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) json.append(i == 0 ? "" : ",").append(shape[i]);
            json.append("],\"data_offsets\":[").append(t.begin()).append(',').append(t.end()).append("]}");
        }
        json.append('}');
        byte[] utf8 = strictUtf8(json);
        byte[] padded = new byte[(utf8.length + 7) / 8 * 8];
        System.arraycopy(utf8, 0, padded, 0, utf8.length);
        for (int i = utf8.length; i < padded.length; i++) padded[i] = ' ';
        return padded;
    }

    /** Code point order, which is the byte order of UTF-8 and so the order of the reference (Rust) writer. */
    static int compareCodePoints(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    private static Map<String, String> sortedByCodePoint(Map<String, String> metadata) {
        Map<String, String> sorted = new TreeMap<>(HeaderWriter::compareCodePoints);
        sorted.putAll(metadata);
        return sorted;
    }

    /** A JSON string literal with serde_json's escapes: the short forms, \\u00xx for other controls, nothing else. */
    private static StringBuilder string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"');
    }

    /** UTF-8 that fails on unpaired surrogates, which the default encoder would turn into '?' silently. */
    private static byte[] strictUtf8(CharSequence s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a tensor name or metadata string has an unpaired surrogate"
                    + " character, which cannot be stored as UTF-8", e);
        }
    }
}

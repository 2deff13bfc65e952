package dev.ember.nn.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file's header: its tensors in the order the header lists them, and its
 * {@code __metadata__} (empty when the file has none).
 *
 * @param headerLength the JSON header's length in bytes, padding included; the data buffer starts
 *     at {@code 8 + headerLength}
 */
public record Header(List<TensorEntry> tensors, Map<String, String> metadata, long headerLength) {
    public Header {
        tensors = List.copyOf(tensors);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Where the data buffer starts in the file. */
    public long dataStart() { return 8 + headerLength; }
}

package dev.ember.nn.io;

import dev.ember.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The contents of a safetensors file: its tensors, in the order the file lists them, and its
 * string metadata. Closing it closes the tensors.
 */
public record Checkpoint(Map<String, Tensor> tensors, Map<String, String> metadata) implements AutoCloseable {
    public Checkpoint {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    @Override
    public void close() {
        for (Tensor t : tensors.values()) t.close();
    }
}

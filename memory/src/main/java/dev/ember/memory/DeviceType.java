package dev.ember.memory;

/** The kinds of device a tensor can live on. */
public enum DeviceType {
    CPU("cpu"),
    CUDA("cuda");

    private final String prefix;

    DeviceType(String prefix) {
        this.prefix = prefix;
    }

    /** The lower-case name used in device strings such as {@code "cuda:0"}. */
    public String prefix() {
        return prefix;
    }
}

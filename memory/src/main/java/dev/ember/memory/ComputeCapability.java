package dev.ember.memory;

/** A CUDA compute capability such as 9.0 (H100) or 8.0 (A100). */
public record ComputeCapability(int major, int minor) implements Comparable<ComputeCapability> {

    /** True when this capability is at least {@code major.minor}. */
    public boolean atLeast(int major, int minor) {
        return compareTo(new ComputeCapability(major, minor)) >= 0;
    }

    @Override
    public int compareTo(ComputeCapability other) {
        return major != other.major ? Integer.compare(major, other.major) : Integer.compare(minor, other.minor);
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}

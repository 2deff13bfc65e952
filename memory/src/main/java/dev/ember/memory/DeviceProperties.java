package dev.ember.memory;

/**
 * What the driver reports about one CUDA device. Queried once per device, on first use.
 *
 * @param name                the marketing name, e.g. "NVIDIA H100 80GB HBM3"
 * @param totalMemory         device memory in bytes
 * @param computeCapability   the SM architecture version
 * @param multiprocessorCount the number of streaming multiprocessors
 */
public record DeviceProperties(String name, long totalMemory, ComputeCapability computeCapability,
                               int multiprocessorCount) {
}

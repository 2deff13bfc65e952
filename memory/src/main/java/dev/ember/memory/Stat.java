package dev.ember.memory;

/**
 * One allocator statistic as PyTorch keeps it.
 *
 * @param current   the value now
 * @param peak      the highest value since creation or the last peak reset
 * @param allocated the sum of all increases
 * @param freed     the sum of all decreases
 */
public record Stat(long current, long peak, long allocated, long freed) {
}

package dev.ember.tensor;

import dev.ember.memory.Device;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seedable source of random numbers for rand/randn/randint and everything else random (the
 * same seed gives the same numbers). Thread-safe; like torch.Generator, not PyTorch's exact
 * stream.
 *
 * <p>Host draws come from a {@link SplittableRandom}. CUDA kernels draw from a counter-based
 * Philox generator instead (random.cu), which needs no state on the device: each call takes a
 * (seed, offset) pair, and every CUDA device has its own offset here, starting at 0 and moving
 * on by one per call, as PyTorch keeps one generator state per device. Seeding resets them all,
 * so a seed reproduces the device's numbers too (they differ from the host's, as in PyTorch).
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(System.nanoTime());

    private SplittableRandom random;
    private long seed;
    /** The next Philox offset of each CUDA device (by index) that drew from this generator. */
    private final Map<Integer, Long> offsets = new HashMap<>();

    public Generator(long seed) {
        manualSeed(seed);
    }

    /** The generator used when none is given; reseed it with {@link Ember#manualSeed}. */
    public static Generator defaultGenerator() { return DEFAULT; }

    public synchronized Generator manualSeed(long seed) {
        this.random = new SplittableRandom(seed);
        this.seed = seed;
        offsets.clear();
        return this;
    }

    /** Uniform in [0, 1). */
    public synchronized double nextDouble() { return random.nextDouble(); }

    /** Standard normal, by the Box-Muller-free polar method of the JDK. */
    public synchronized double nextGaussian() { return random.nextGaussian(); }

    /** Uniform integer in [low, high). */
    public synchronized long nextLong(long low, long high) { return random.nextLong(low, high); }

    /** A generator for a block of work drawn from this one, so bulk fills need no lock per element. */
    synchronized SplittableRandom split() { return random.split(); }

    /** What one CUDA kernel call draws from: random.cu's Philox key and counter offset. */
    record Philox(long seed, long offset) {}

    /** The (seed, offset) for the next kernel call on {@code device}; moves that device's offset on by one. */
    synchronized Philox nextPhilox(Device device) {
        long offset = offsets.getOrDefault(device.index(), 0L);
        offsets.put(device.index(), offset + 1);
        return new Philox(seed, offset);
    }
}

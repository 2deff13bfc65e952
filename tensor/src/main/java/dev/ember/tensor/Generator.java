package dev.ember.tensor;

import java.util.SplittableRandom;

/**
 * A seedable source of random numbers for rand/randn/randint and everything else random (the
 * same seed gives the same numbers). Thread-safe; like torch.Generator, not PyTorch's exact
 * stream.
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(System.nanoTime());

    private SplittableRandom random;

    public Generator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The generator used when none is given; reseed it with {@link Ember#manualSeed}. */
    public static Generator defaultGenerator() { return DEFAULT; }

    public synchronized Generator manualSeed(long seed) {
        this.random = new SplittableRandom(seed);
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
}

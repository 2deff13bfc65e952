package dev.ember.bench.cpu;

/**
 * The {@code threads} parameter of the CPU benchmarks: a count, or {@code all} for every
 * processor this JVM sees. "all" keeps the parameter list the same on any machine, so one
 * command measures "one thread" and "all threads" wherever it runs.
 */
final class Threads {
    static final String ALL = "all";

    private Threads() {}

    static int resolve(String threads) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (ALL.equals(threads)) return cores;
        int n = Integer.parseInt(threads);
        if (n < 1 || n > cores) {
            throw new IllegalArgumentException("threads=" + n + " but this machine has " + cores + " processors");
        }
        return n;
    }
}

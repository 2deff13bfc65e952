package dev.ember.tensor.cpu;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.ObjectName;

/**
 * Keeps HotSpot's C2 compiler from compiling the Vector API's own methods on their own, so that
 * it spends the first seconds of a run on Ember's kernels instead; and has it inline
 * {@link VectorExp} wherever Ember calls it (see {@link #JSON}).
 *
 * <p>Why: until C2 has compiled a kernel, the kernel runs interpreted or C1-compiled, and there
 * every vector operation calls the Vector API's Java fallback (a lambda per lane, a new array per
 * vector). Those fallbacks become the hottest methods in the JVM, so C2 compiles them first:
 * 3.5 of the 8.5 CPU-seconds C2 spent in the first epoch of the Fashion-MNIST example, on a
 * 2-core machine where C2 then competes with training for a core. That work is wasted: a kernel
 * compiled by C2 inlines the Vector API calls as intrinsics and never calls the fallbacks again.
 * Excluding the Vector API's methods as C2 compilation roots (inlined into a kernel they are
 * still compiled and intrinsified) made that first epoch about 1 s shorter on its own (18.7-19.7 s
 * against 19.7-20.4 s, 3 runs each), with the same steady per-step time; and it is what lets the
 * main job's lower C2 thresholds for the kernels (examples/pom.xml) take another 2 s off, where
 * without it they make the epoch slower.
 *
 * <p>The directive goes in through the Compiler.directives_add diagnostic command, so it needs
 * no JVM flag; it is added on a background thread because starting the platform MBean server
 * takes about 150 ms. It applies to the whole JVM. Set the system property
 * {@code ember.cpu.vectorJitDirective=false} to leave the JIT alone. Where the command is not
 * there (a runtime without the jdk.management module) or fails, nothing changes but speed.
 */
final class VectorJitDirective {
    static final String PROPERTY = "ember.cpu.vectorJitDirective";

    /**
     * The Vector API's public classes and its intrinsic entry points: not C2 roots, still inlined.
     * And VectorExp inlined into every caller in Ember (kernels, their loop copies, unary ops):
     * once C2 has compiled it on its own (a large method), it no longer inlines it into callers
     * compiled later, and there, with the vector's class unknown, every vector operation in it ran
     * as an allocating fallback (a quarter of the example's garbage in a training step). Being
     * inlined everywhere, it is not a C2 root either: called from C1 code, it was compiled on its
     * own three times in the example's first seconds (0.4 s of C2; then with vectors of two sizes,
     * before the reductions moved to one, see CpuReductionVectors).
     * (The first directive that matches a method applies, so VectorExp's comes first.)
     */
    static final String JSON = """
            [{ match: ["jdk/incubator/vector/*.*", "jdk/internal/vm/vector/*.*"], c2: { Exclude: true } },
             { match: ["dev/ember/tensor/cpu/VectorExp.*"], c2: { Exclude: true } },
             { match: ["dev/ember/*.*"], c2: { inline: ["+dev/ember/tensor/cpu/VectorExp.*"] } }]
            """;

    /** How many directives {@link #JSON} holds: the JVM's reply names the count it added. */
    private static final int BLOCKS = JSON.split("match:", -1).length - 1;

    private static final System.Logger LOG = System.getLogger(VectorJitDirective.class.getName());

    private VectorJitDirective() {}

    /** Adds the directive on a daemon thread, unless the system property turns it off. */
    static void installInBackground() {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) return;
        Thread t = new Thread(VectorJitDirective::install, "ember-jit-directive");
        t.setDaemon(true);
        t.start();
    }

    /** Adds the directive now; returns whether the JVM accepted it. */
    static boolean install() {
        Path file = null;
        try {
            file = Files.createTempFile("ember-vector-jit", ".json");
            Files.writeString(file, JSON);
            Object reply = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            boolean added = String.valueOf(reply).contains(BLOCKS + " compiler directives added");
            if (!added) LOG.log(System.Logger.Level.DEBUG, "JIT directive not added: {0}", reply);
            return added;
        } catch (Exception | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "JIT directive not added", e);
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (Exception ignored) {
                    // a leftover temporary file of 100 bytes is no reason to fail
                }
            }
        }
    }
}

package dev.ember.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class VectorJitDirectiveTest {
    /**
     * The JVM parses and accepts the directives: the Vector API excluded from C2 (and only from C2)
     * as compilation roots, and VectorExp inlined by C2 into Ember's code and no C2 root itself.
     */
    @Test
    void theJvmAcceptsTheDirective() throws Exception {
        // the diagnostic command MBean comes with jdk.management (a full JDK has it; a trimmed runtime may not)
        assumeTrue(ModuleLayer.boot().findModule("jdk.management").isPresent(), "no jdk.management in this runtime");
        assertTrue(VectorJitDirective.install(), "Compiler.directives_add refused the directive");
        String printed = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[] {new String[0]}, new String[] {String[].class.getName()}));
        int match = printed.indexOf("jdk/incubator/vector/*.*"); // the JVM prints the patterns in its own order
        assertTrue(match >= 0, printed);
        String ours = printed.substring(printed.lastIndexOf('\n', match) + 1, printed.indexOf("Directive:", match));
        assertTrue(ours.lines().findFirst().orElseThrow().contains("jdk/internal/vm/vector/*.*"), ours);
        int c1 = ours.indexOf("c1 directives:"), c2 = ours.indexOf("c2 directives:");
        assertTrue(c1 >= 0 && c2 > c1, ours);
        assertTrue(ours.substring(c1, c2).contains("Exclude:false"), "C1 must still compile the Vector API: " + ours);
        assertTrue(ours.substring(c2).contains("Exclude:true"), "C2 must not take the Vector API as roots: " + ours);
        int inline = printed.indexOf("matching: dev/ember/*.*");
        assertTrue(inline >= 0, printed);
        String kernels = printed.substring(inline, printed.indexOf("Directive:", inline));
        assertTrue(kernels.substring(kernels.indexOf("c2 directives:")).contains("+dev/ember/tensor/cpu/VectorExp.*"),
                "C2 must inline VectorExp into Ember's code: " + kernels);
        // VectorExp itself is no C2 root: its directive must come first (the first that matches applies)
        int exp = printed.indexOf("matching: dev/ember/tensor/cpu/VectorExp.*");
        assertTrue(exp >= 0 && exp < inline, printed);
        String expBlock = printed.substring(exp, printed.indexOf("Directive:", exp));
        assertTrue(expBlock.substring(expBlock.indexOf("c2 directives:")).contains("Exclude:true"),
                "C2 must not take VectorExp as a root: " + expBlock);
        assertTrue(expBlock.substring(expBlock.indexOf("c1 directives:"), expBlock.indexOf("c2 directives:")).contains("Exclude:false"),
                "C1 must still compile VectorExp: " + expBlock);
    }
}

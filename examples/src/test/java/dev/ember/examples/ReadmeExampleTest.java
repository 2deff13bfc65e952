package dev.ember.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's usage example honest: extracts the Java block between the
 * {@code <!-- usage-example -->} markers, compiles it against the current build and runs it.
 */
class ReadmeExampleTest {

    @Test
    void readmeUsageExampleCompilesAndRuns() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("<!-- usage-example:start -->");
        int end = readme.indexOf("<!-- usage-example:end -->");
        assertTrue(start >= 0 && end > start, "README.md must mark its usage example with usage-example markers");
        String block = readme.substring(start, end);
        block = block.substring(block.indexOf("```java") + "```java".length(), block.lastIndexOf("```"));

        StringBuilder imports = new StringBuilder(), body = new StringBuilder();
        for (String line : block.strip().split("\n")) {
            (line.startsWith("import ") ? imports : body).append(line).append('\n');
        }
        String source = imports + "public class ReadmeExample {\n public static void main(String[] args) {\n"
                + body + "}\n}\n";

        Path dir = Files.createTempDirectory("readme-example");
        Path file = dir.resolve("ReadmeExample.java");
        Files.writeString(file, source);
        var compiler = ToolProvider.getSystemJavaCompiler();
        var errors = new ByteArrayOutputStream();
        int rc = compiler.run(null, null, errors, "--add-modules", "jdk.incubator.vector", "-proc:none",
                "-cp", System.getProperty("java.class.path"), "-d", dir.toString(), file.toString());
        assertEquals(0, rc, "README example does not compile:\n" + source + "\n" + errors);

        var out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        try (var loader = new URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true));
            loader.loadClass("ReadmeExample").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(original);
        }
        List<String> lines = out.toString().lines().toList();
        assertTrue(!lines.isEmpty() && lines.get(0).startsWith("tensor("), "the example prints tensors: " + lines);
    }
}

package dev.ember.nn.io;

import dev.ember.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The files under test resources safetensors/, written by the reference implementation
 * (make_reference.py there), and the NAME-values.txt that describes what each holds.
 */
final class ReferenceFiles {
    /** One tensor of a reference file: its raw little-endian bytes and its values as Python printed them. */
    record Expected(String name, DType dtype, long[] shape, byte[] raw, List<String> values) {}

    private ReferenceFiles() {}

    static Path file(String stem) {
        try {
            return Path.of(ReferenceFiles.class.getResource("/safetensors/" + stem + ".safetensors").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Expected> expected(String stem) {
        try (InputStream in = ReferenceFiles.class.getResourceAsStream("/safetensors/" + stem + "-values.txt")) {
            List<Expected> out = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isEmpty()) continue;
                String[] f = line.split("\t", -1);
                long[] shape = f[2].isEmpty() ? new long[0]
                        : java.util.Arrays.stream(f[2].split(",")).mapToLong(Long::parseLong).toArray();
                List<String> values = f[4].isEmpty() ? List.of() : List.of(f[4].split(" "));
                out.add(new Expected(f[0], dtype(f[1]), shape, HexFormat.of().parseHex(f[3]), values));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static DType dtype(String torchName) {
        for (DType d : DType.values()) {
            if (d.torchName().equals(torchName)) return d;
        }
        throw new IllegalArgumentException(torchName);
    }

    /** A Python float repr as a double: Python spells infinities and NaN its own way. */
    static double pythonFloat(String s) {
        return switch (s) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(s);
        };
    }
}

package dev.ember.nn.io;

import dev.ember.tensor.Shapes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Checks that a parsed header describes its data buffer consistently before any tensor is
 * allocated or any byte is read: each entry's offsets span exactly its shape's bytes, lie inside the
 * buffer, and together the entries tile the buffer with no overlap, gap or trailing bytes, as the
 * reference implementation requires. After this, every size used to allocate or read is bounded by
 * the file's real size.
 */
final class HeaderLayout {
    private HeaderLayout() {}

    static void check(Path file, Header header, long dataLength) throws CheckpointException {
        for (TensorEntry e : header.tensors()) checkEntry(file, e, dataLength);
        List<TensorEntry> byOffset = new ArrayList<>(header.tensors());
        // zero-size entries sort before a non-empty one starting at the same offset
        byOffset.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long covered = 0;
        TensorEntry previous = null;
        for (TensorEntry e : byOffset) {
            if (e.begin() > covered) {
                throw new CheckpointException(file, "no tensor covers bytes [" + covered + ", " + e.begin()
                        + ") of the data buffer (before tensor " + HeaderParser.quote(e.name()) + ")");
            }
            if (e.begin() < covered) {
                throw new CheckpointException(file, "tensors " + HeaderParser.quote(previous.name()) + " and "
                        + HeaderParser.quote(e.name()) + " overlap in the data buffer");
            }
            covered = e.end();
            previous = e;
        }
        if (covered != dataLength) {
            throw new CheckpointException(file, "the data buffer is " + dataLength + " bytes but its tensors cover only "
                    + covered + ": the file has trailing bytes that no tensor describes");
        }
    }

    private static void checkEntry(Path file, TensorEntry e, long dataLength) throws CheckpointException {
        String what = "tensor " + HeaderParser.quote(e.name());
        String offsets = "data_offsets [" + e.begin() + ", " + e.end() + "]";
        if (e.end() < e.begin()) throw new CheckpointException(file, what + " has " + offsets + " that end before they begin");
        if (e.end() > dataLength) {
            throw new CheckpointException(file, what + " has " + offsets + " outside the data buffer of " + dataLength
                    + " bytes: the file is truncated or its header is corrupt");
        }
        long bytes;
        try {
            // the same arithmetic Tensor.empty will do, so a shape that passes here can be allocated
            bytes = Math.multiplyExact(Shapes.numel(e.shape()), (long) e.dtype().itemSize());
        } catch (ArithmeticException overflow) {
            throw new CheckpointException(file, what + " has shape " + Arrays.toString(e.shape()) + ", too large to address");
        }
        if (bytes != e.byteLength()) {
            throw new CheckpointException(file, what + " of dtype " + SafetensorsType.of(e.dtype()).code + " and shape "
                    + Arrays.toString(e.shape()) + " needs " + bytes + " bytes, but its " + offsets + " span "
                    + e.byteLength());
        }
    }
}

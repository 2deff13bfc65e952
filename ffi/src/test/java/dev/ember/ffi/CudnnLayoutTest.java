package dev.ember.ffi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemoryLayout.PathElement;
import org.junit.jupiter.api.Test;

/** The algorithm-search result struct laid out as cudnn_cnn.h declares it on 64-bit Linux. */
class CudnnLayoutTest {

    @Test
    void algorithmPerfStructMatchesTheCLayout() {
        // { int algo; int status; float time; size_t memory; int determinism; int mathType; int reserved[3]; }
        assertEquals(48, Cudnn.ALGO_PERF.byteSize());
        assertEquals(8, Cudnn.ALGO_PERF.byteAlignment());
        assertEquals(0, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("algo")));
        assertEquals(4, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("status")));
        assertEquals(8, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("time")));
        assertEquals(16, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("memory")));
        assertEquals(24, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("determinism")));
        assertEquals(28, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("mathType")));
        assertEquals(32, Cudnn.ALGO_PERF.byteOffset(PathElement.groupElement("reserved")));
    }
}

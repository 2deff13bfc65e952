package dev.ember.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fused optimizers' tables have optim.cu's byte layout and chunk numbering (no GPU needed). */
class OptimizerTableTest {
    private static long chunksOf(long numel) {
        return (numel + OptimizerTable.CHUNK_ELEMS - 1) / OptimizerTable.CHUNK_ELEMS;
    }

    @Test
    void sgdRecordsHaveTheKernelsLayoutAndCountChunksBeforeThem() {
        Random r = new Random();
        long[] numels = {0, 1, OptimizerTable.CHUNK_ELEMS, OptimizerTable.CHUNK_ELEMS + 1, r.nextInt(100_000)};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(80L * numels.length, 8);
            OptimizerTable t = OptimizerTable.sgd(m);
            long expectedFirst = 0;
            for (int i = 0; i < numels.length; i++) {
                double lr = r.nextDouble(), mom = r.nextDouble(), damp = r.nextDouble(), wd = r.nextDouble();
                t.addSgd(1000 + i, 2000 + i, i % 2 == 0 ? 0 : 3000 + i, numels[i], lr, mom, damp, wd, i == 1, i == 2, i == 3);
                long at = 80L * i;
                assertEquals(1000 + i, m.get(ValueLayout.JAVA_LONG, at));
                assertEquals(2000 + i, m.get(ValueLayout.JAVA_LONG, at + 8));
                assertEquals(i % 2 == 0 ? 0 : 3000 + i, m.get(ValueLayout.JAVA_LONG, at + 16));
                assertEquals(numels[i], m.get(ValueLayout.JAVA_LONG, at + 24));
                assertEquals(expectedFirst, m.get(ValueLayout.JAVA_LONG, at + 32));
                assertEquals(lr, m.get(ValueLayout.JAVA_DOUBLE, at + 40));
                assertEquals(mom, m.get(ValueLayout.JAVA_DOUBLE, at + 48));
                assertEquals(damp, m.get(ValueLayout.JAVA_DOUBLE, at + 56));
                assertEquals(wd, m.get(ValueLayout.JAVA_DOUBLE, at + 64));
                int flags = (i == 1 ? 1 : 0) | (i == 2 ? 2 : 0) | (i == 3 ? 4 : 0);
                assertEquals(flags, m.get(ValueLayout.JAVA_INT, at + 72));
                assertEquals(0, m.get(ValueLayout.JAVA_INT, at + 76));
                expectedFirst += chunksOf(numels[i]);
            }
            assertEquals(numels.length, t.records());
            assertEquals(expectedFirst, t.totalChunks());
            assertEquals(80L * numels.length, t.bytes());
            assertThrows(IndexOutOfBoundsException.class, () -> t.addSgd(1, 2, 0, 5, 0.1, 0, 0, 0, false, false, false));
        }
    }

    @Test
    void adamRecordsHaveTheKernelsLayout() {
        Random r = new Random();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(240, 8);
            OptimizerTable t = OptimizerTable.adam(m);
            long n0 = 1 + r.nextInt(50_000);
            t.addAdam(11, 12, 13, 14, 0, n0, 0.1, 0.9, 0.999, 1e-8, 0.01, 0.5, 0.25, true, false, false);
            double[] o = {r.nextDouble(), r.nextDouble(), r.nextDouble(), r.nextDouble(), r.nextDouble(), r.nextDouble(),
                    r.nextDouble()};
            t.addAdam(21, 22, 23, 24, 25, 7, o[0], o[1], o[2], o[3], o[4], o[5], o[6], false, true, true);
            assertEquals(1, m.get(ValueLayout.JAVA_INT, 112));
            long at = 120;
            long[] addresses = {21, 22, 23, 24, 25};
            for (int k = 0; k < 5; k++) assertEquals(addresses[k], m.get(ValueLayout.JAVA_LONG, at + 8L * k));
            assertEquals(7, m.get(ValueLayout.JAVA_LONG, at + 40));
            assertEquals(chunksOf(n0), m.get(ValueLayout.JAVA_LONG, at + 48));
            for (int k = 0; k < o.length; k++) assertEquals(o[k], m.get(ValueLayout.JAVA_DOUBLE, at + 56 + 8L * k));
            assertEquals(2 | 4, m.get(ValueLayout.JAVA_INT, at + 112));
            assertEquals(0, m.get(ValueLayout.JAVA_INT, at + 116));
            assertEquals(chunksOf(n0) + 1, t.totalChunks());
        }
    }

    @Test
    void aTableTakesOneKindOfRecord() {
        try (Arena arena = Arena.ofConfined()) {
            OptimizerTable t = OptimizerTable.sgd(arena.allocate(400, 8));
            assertThrows(IllegalStateException.class,
                    () -> t.addAdam(1, 2, 3, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, false, false, false));
        }
    }
}

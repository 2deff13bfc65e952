package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * nn.Embedding on CUDA: the lookup (index_select on the device) and the weight's gradient
 * (index_add on the device, repeated indices summing) match the CPU's, which LayersTest checks
 * by hand and by gradcheck; a bad index fails with the CPU's message. Skipped without a CUDA
 * driver and device.
 */
@Tag("gpu")
class EmbeddingGpuTest {

    @BeforeEach
    void needsCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
    }

    @Test
    void lookupAndGradientMatchTheCpu() {
        for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
            try (var s = Ember.scope(); Embedding cpu = new Embedding(50, 16, new Generator(3));
                 Embedding gpu = new Embedding(50, 16, new Generator(3))) {
                gpu.to(Device.cuda());
                assertTrue(gpu.weight().isCuda());
                // 42 draws from 50 rows: repeated rows are all but certain, and their gradients must sum
                Tensor idx = Tensor.randint(new Generator(4), 0, 50, 6, 7).to(indexType);
                Tensor expected = cpu.apply(idx);
                Tensor actual = gpu.apply(idx.cuda());
                assertTrue(actual.isCuda());
                assertArrayEquals(new long[] {6, 7, 16}, actual.shape());
                assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), indexType + ": rows are copied exactly");

                Tensor upstream = Tensor.randn(new Generator(5), 6, 7, 16);
                expected.backward(upstream);
                actual.backward(upstream.cuda());
                Tensor grad = gpu.weight().grad();
                assertTrue(grad.isCuda(), "the gradient stays on the device");
                float[] e = cpu.weight().grad().toFloatArray(), a = grad.toFloatArray();
                for (int i = 0; i < e.length; i++) {
                    // float atomics sum repeated rows in any order: equal up to float rounding
                    assertEquals(e[i], a[i], 1e-5 * Math.max(1, Math.abs(e[i])), indexType + ": weight gradient " + i);
                }
            }
        }
    }

    @Test
    void aBadIndexFailsWithTheCpusMessage() {
        try (Embedding cpu = new Embedding(10, 3, new Generator(1)); Embedding gpu = new Embedding(10, 3, new Generator(1))) {
            gpu.to(Device.cuda());
            Tensor bad = Tensor.fromArray(new long[] {1, 10, 3});
            String expected = assertThrows(IndexOutOfBoundsException.class, () -> cpu.apply(bad)).getMessage();
            assertEquals(expected, assertThrows(IndexOutOfBoundsException.class, () -> gpu.apply(bad.cuda())).getMessage());
        }
    }
}

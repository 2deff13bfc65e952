package dev.ember.autograd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * Every check of {@link ElementwiseGradCheckTest}, with the checked functions run on CUDA: float64 leaves on the
 * host, moved to the device inside each function, so the forward and every derivative run
 * there. Skipped without a CUDA driver and device.
 */
@Tag("gpu")
class ElementwiseGradCheckGpuTest extends ElementwiseGradCheckTest {
    @BeforeAll
    static void onCuda() {
        assumeTrue(Cuda.isAvailable(), Cuda::unavailableReason);
        Inputs.runOn(Device.cuda());
    }

    @AfterAll
    static void backOnTheHost() {
        Inputs.runOn(Device.cpu());
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ember.ffi.Cuda;
import dev.ember.memory.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Device placement as seen from a machine with or without CUDA (the GPU behaviour is in CudaTensorGpuTest). */
@ExtendWith(TestTensors.Scoped.class)
class DeviceTest {

    @Test
    void hostTensorsAreOnTheCpuAndMovingThereIsFree() {
        Tensor t = Tensor.arange(6).reshape(2, 3);
        assertEquals(Device.cpu(), t.device());
        assertEquals(false, t.isCuda());
        Tensor same = t.to(Device.cpu());
        assertTrue(same.sharesStorageWith(t));
        assertEquals(Device.cpu(), Tensor.zerosLike(t).device());
        // staying on the device keeps the tensor in the graph, as torch's to() returning self
        Tensor leaf = Tensor.ones(3).requiresGrad_(true);
        Tensor moved = leaf.to(Device.cpu());
        assertTrue(moved.requiresGrad());
        assertEquals("ToCopyBackward0", moved.gradFn().name());
        assertEquals(Device.cpu(), Tensor.empty(Device.cpu(), DType.FLOAT32, 2).device());
    }

    @Test
    void movingToCudaWithoutAGpuSaysWhy() {
        assumeFalse(Cuda.isAvailable(), "this machine has CUDA");
        Tensor t = Tensor.ones(3);
        IllegalStateException e = assertThrows(IllegalStateException.class, t::cuda);
        assertTrue(e.getMessage().startsWith("CUDA is not available"), e.getMessage());
    }

    @Test
    void pinningWithoutAGpuSaysWhyAndNonBlockingHostCopiesAreOrdinary() {
        assumeFalse(Cuda.isAvailable(), "this machine has CUDA");
        Tensor t = Tensor.ones(3);
        IllegalStateException e = assertThrows(IllegalStateException.class, t::pinMemory);
        assertTrue(e.getMessage().startsWith("pinMemory() needs CUDA"), e.getMessage());
        assertEquals(false, t.isPinned());
        assertTrue(t.to(Device.cpu(), true).sharesStorageWith(t));
    }

    @Test
    void mixedDevicesGetPyTorchsMessageAndHostScalarsGoAnywhere() {
        Tensor host = Tensor.ones(3);
        assertEquals(Device.cpu(), Elementwise.commonDevice(host, Tensor.scalar(2)));
        // no device memory can be had here, so the rule commonDevice applies is checked on devices alone
        Elementwise.checkSameDevice(Device.cuda(0), Device.cuda(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.checkSameDevice(Device.cuda(0), Device.cpu()));
        assertEquals("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
                e.getMessage());
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** toString against the exact text PyTorch 1.13 prints for the same tensors (recorded from python). */
class TensorPrinterTest {

    private static void check(String expected, Tensor t) {
        try (t) {
            assertEquals(expected, t.toString());
        }
    }

    @Test
    void printsLikePyTorch() {
        // torch.ones(2,2,dtype=torch.float64)
        check("tensor([[1., 1.],\n        [1., 1.]], dtype=torch.float64)",
                Tensor.ones(DType.FLOAT64, 2, 2));
        // torch.tensor([1e-5,1.0])
        check("tensor([1.0000e-05, 1.0000e+00])",
                Tensor.fromArray(new float[] {1e-5f, 1f}));
        // torch.tensor([1,2],dtype=torch.int32)
        check("tensor([1, 2], dtype=torch.int32)",
                Tensor.fromArray(new int[] {1, 2}));
        // torch.tensor(3.5)
        check("tensor(3.5000)",
                Tensor.scalar(3.5));
        // torch.zeros(0,3)
        check("tensor([], size=(0, 3))",
                Tensor.zeros(0, 3));
        // torch.zeros(0)
        check("tensor([])",
                Tensor.zeros(0));
        // torch.tensor([True,False])
        check("tensor([ True, False])",
                Tensor.fromArray(new boolean[] {true, false}));
        // torch.arange(10000)
        check("tensor([   0,    1,    2,  ..., 9997, 9998, 9999])",
                Tensor.arange(10000));
        // torch.arange(2000.).reshape(20,100)
        check("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.9700e+02, 1.9800e+02,\n         1.9900e+02],\n        [2.0000e+02, 2.0100e+02, 2.0200e+02,  ..., 2.9700e+02, 2.9800e+02,\n         2.9900e+02],\n        ...,\n        [1.7000e+03, 1.7010e+03, 1.7020e+03,  ..., 1.7970e+03, 1.7980e+03,\n         1.7990e+03],\n        [1.8000e+03, 1.8010e+03, 1.8020e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])",
                Tensor.arange(0.0, 2000.0, 1.0).reshape(20, 100));
        // torch.tensor([1.5, float('nan'), float('inf')])
        check("tensor([1.5000,    nan,    inf])",
                Tensor.fromArray(new float[] {1.5f, Float.NaN, Float.POSITIVE_INFINITY}));
        // torch.tensor([123456789.,1.])
        check("tensor([1.2346e+08, 1.0000e+00])",
                Tensor.fromArray(new float[] {123456789f, 1f}));
        // torch.tensor([1.,-2.])
        check("tensor([ 1., -2.])",
                Tensor.fromArray(new float[] {1f, -2f}));
        // torch.arange(24.).reshape(2,3,4)
        check("tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])",
                Tensor.arange(0.0, 24.0, 1.0).reshape(2, 3, 4));
        // torch.tensor([[1,-2],[300,4]])
        check("tensor([[  1,  -2],\n        [300,   4]])",
                Tensor.fromArray(new long[] {1, -2, 300, 4}, 2, 2));
        // torch.tensor([1.,2.],dtype=torch.float16)
        check("tensor([1., 2.], dtype=torch.float16)",
                Tensor.fromArray(new float[] {1f, 2f}).to(DType.FLOAT16));
        // torch.tensor([0.1, 100.0])
        check("tensor([  0.1000, 100.0000])",
                Tensor.fromArray(new float[] {0.1f, 100f}));
        // torch.arange(30.)/7
        check("tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429])",
                Tensor.arange(0.0, 30.0, 1.0).div(7));
        // torch.tensor([0.3333, -2.5], dtype=torch.bfloat16)
        check("tensor([ 0.3340, -2.5000], dtype=torch.bfloat16)",
                Tensor.fromArray(new float[] {0.3333f, -2.5f}).to(DType.BFLOAT16));
        // torch.tensor([255, 0, 7], dtype=torch.uint8)
        check("tensor([255,   0,   7], dtype=torch.uint8)",
                Tensor.fromArray(new byte[] {(byte) 255, 0, 7}));
        // torch.zeros(3)
        check("tensor([0., 0., 0.])",
                Tensor.zeros(3));
        // torch.tensor([-0.0, 0.5])
        check("tensor([-0.0000, 0.5000])",
                Tensor.fromArray(new float[] {-0f, 0.5f}));
        // torch.zeros(0,2,dtype=torch.float64)
        check("tensor([], size=(0, 2), dtype=torch.float64)",
                Tensor.zeros(DType.FLOAT64, 0, 2));
    }

    @Test
    void closedTensorSaysSo() {
        Tensor t = Tensor.zeros(2);
        t.close();
        assertEquals("tensor(<closed>, shape=[2], dtype=float32)", t.toString());
    }
}

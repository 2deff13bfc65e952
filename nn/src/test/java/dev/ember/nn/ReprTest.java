package dev.ember.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ember.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Module reprs and Python's float spelling, against what PyTorch 1.13 prints. */
class ReprTest {
    @Test
    void floatsAreSpelledAsPythonsRepr() {
        assertEquals("1e-05", Repr.pyFloat(1e-5));
        assertEquals("0.1", Repr.pyFloat(0.1));
        assertEquals("1.0", Repr.pyFloat(1.0));
        assertEquals("0.001", Repr.pyFloat(1e-3));
        assertEquals("0.0001", Repr.pyFloat(1e-4));
        assertEquals("1.5e-07", Repr.pyFloat(1.5e-7));
        assertEquals("-2.5e-10", Repr.pyFloat(-2.5e-10));
        assertEquals("123456.0", Repr.pyFloat(123456.0));
        assertEquals("1e+16", Repr.pyFloat(1e16));
        assertEquals("1234567890123456.8", Repr.pyFloat(1234567890123456.8));
        assertEquals("0.0", Repr.pyFloat(0.0));
        assertEquals("-0.5", Repr.pyFloat(-0.5));
        assertEquals("(10,)", Repr.tuple(10L));
        assertEquals("(3, 4)", Repr.tuple(3, 4));
    }

    @Test
    void layersPrintAsPyTorch() {
        assertEquals("Linear(in_features=3, out_features=4, bias=False)", new Linear(3, 4, false).toString());
        assertEquals("Conv2d(3, 4, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2), bias=False)",
                new Conv2d(3, 4, new int[] {3, 5}, new int[] {2}, new int[] {0}, new int[] {2}, 1, false,
                        dev.ember.tensor.Generator.defaultGenerator()).toString());
        assertEquals("Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), groups=2)", new Conv2d(4, 4, 3, 1, 0, 1, 2, true).toString());
        assertEquals("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)", new MaxPool2d(2).toString());
        assertEquals("MaxPool2d(kernel_size=(2, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), ceil_mode=True)",
                new MaxPool2d(new int[] {2, 3}, new int[] {1}, new int[] {1}, new int[] {1}, true).toString());
        assertEquals("AvgPool2d(kernel_size=2, stride=2, padding=0)", new AvgPool2d(2).toString());
        assertEquals("AvgPool2d(kernel_size=3, stride=2, padding=1)", new AvgPool2d(3, 2, 1).toString());
        assertEquals("AdaptiveAvgPool2d(output_size=1)", new AdaptiveAvgPool2d(1).toString());
        assertEquals("AdaptiveAvgPool2d(output_size=(2, 3))", new AdaptiveAvgPool2d(new int[] {2, 3}).toString());
        assertEquals("BatchNorm1d(5, eps=0.001, momentum=0.01, affine=False, track_running_stats=False)",
                new BatchNorm1d(5, 1e-3, 0.01, false, false).toString());
        assertEquals("LayerNorm((10,), eps=1e-05, elementwise_affine=True)", new LayerNorm(10).toString());
        assertEquals("LayerNorm((3, 4), eps=1e-06, elementwise_affine=False)", new LayerNorm(new long[] {3, 4}, 1e-6, false).toString());
        assertEquals("Dropout(p=0.5, inplace=False)", new Dropout().toString());
        assertEquals("Embedding(10, 3)", new Embedding(10, 3).toString());
        assertEquals("GELU(approximate='none')", new GELU().toString());
        assertEquals("GELU(approximate='tanh')", new GELU("tanh").toString());
        assertEquals("SiLU()", new SiLU().toString());
        assertEquals("Sigmoid()", new Sigmoid().toString());
        assertEquals("Tanh()", new Tanh().toString());
        assertEquals("Softmax(dim=1)", new Softmax(1).toString());
        assertEquals("LogSoftmax(dim=-1)", new LogSoftmax(-1).toString());
        assertEquals("Flatten(start_dim=0, end_dim=2)", new Flatten(0, 2).toString());
        assertEquals("MSELoss()", new MSELoss().toString());
        assertEquals("BCEWithLogitsLoss()", new BCEWithLogitsLoss(Tensor.ones(3), "mean").toString());
    }
}

package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/** Bad dims and dtypes get PyTorch's messages (checked against torch 1.13). */
@ExtendWith(TestTensors.Scoped.class)
class ReductionErrorsTest {

    private static void fails(Class<? extends RuntimeException> type, String message, Executable call) {
        assertEquals(message, assertThrows(type, call).getMessage());
    }

    @Test
    void dimsOutOfRange() {
        Tensor x = Tensor.zeros(3, 4);
        String range = "Dimension out of range (expected to be in range of [-2, 1], but got 2)";
        fails(IndexOutOfBoundsException.class, range, () -> x.sum(2));
        fails(IndexOutOfBoundsException.class, range, () -> x.mean(new int[] {0, 2}, false));
        fails(IndexOutOfBoundsException.class, range, () -> x.max(2));
        fails(IndexOutOfBoundsException.class, range, () -> x.argmin(2));
        fails(IndexOutOfBoundsException.class, range, () -> x.softmax(2));
        fails(IndexOutOfBoundsException.class, range, () -> x.cumsum(2));
        fails(IndexOutOfBoundsException.class, "Dimension out of range (expected to be in range of [-2, 1], but got -3)",
                () -> x.logsumexp(-3));
        fails(IndexOutOfBoundsException.class, "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
                () -> Tensor.scalar(5).sum(1));
    }

    @Test
    void repeatedDims() {
        Tensor x = Tensor.zeros(3, 4);
        fails(IllegalArgumentException.class, "dim 1 appears multiple times in the list of dims", () -> x.sum(new int[] {1, 1}, false));
        fails(IllegalArgumentException.class, "dim 1 appears multiple times in the list of dims", () -> x.var(new int[] {1, -1}, 1, false));
        fails(IllegalArgumentException.class, "dim 0 appears multiple times in the list of dims",
                () -> Tensor.ones(2).norm(2, new int[] {0, -1}, false));
    }

    @Test
    void floatingOnlyReductions() {
        Tensor longs = Tensor.arange(6);
        Tensor bools = Tensor.fromArray(new boolean[] {true, false});
        fails(IllegalArgumentException.class,
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long", longs::mean);
        fails(IllegalArgumentException.class,
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Bool", bools::mean);
        fails(IllegalArgumentException.class, "std and var only support floating point and complex dtypes", longs::var);
        fails(IllegalArgumentException.class, "std and var only support floating point and complex dtypes", longs::std);
        fails(IllegalArgumentException.class, "norm(): input dtype should be either floating point or complex. Got Long instead.", longs::norm);
        fails(IllegalArgumentException.class, "norm(): input dtype should be either floating point or complex. Got Bool instead.", bools::norm);
        fails(IllegalArgumentException.class, "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'", () -> longs.softmax(0));
        fails(IllegalArgumentException.class, "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'", () -> longs.logSoftmax(-1));
        fails(IllegalArgumentException.class, "\"softmax_kernel_impl\" not implemented for 'Int'",
                () -> Tensor.zeros(DType.INT32, 2, 3).softmax(0));
    }

    @Test
    void emptyExtremes() {
        Tensor empty = Tensor.zeros(0);
        fails(IllegalArgumentException.class, "max(): Expected reduction dim to be specified for input.numel() == 0. "
                + "Specify the reduction dim with the 'dim' argument.", empty::max);
        fails(IllegalArgumentException.class, "min(): Expected reduction dim to be specified for input.numel() == 0. "
                + "Specify the reduction dim with the 'dim' argument.", empty::min);
        fails(IndexOutOfBoundsException.class, "argmax(): Expected reduction dim to be specified for input.numel() == 0.", empty::argmax);
        fails(IndexOutOfBoundsException.class, "argmin(): Expected reduction dim to be specified for input.numel() == 0.", empty::argmin);
        Tensor rows = Tensor.zeros(3, 0);
        fails(IndexOutOfBoundsException.class, "max(): Expected reduction dim 1 to have non-zero size.", () -> rows.max(1));
        fails(IndexOutOfBoundsException.class, "min(): Expected reduction dim 1 to have non-zero size.", () -> rows.min(-1, true));
        fails(IndexOutOfBoundsException.class, "argmax(): Expected reduction dim 1 to have non-zero size.", () -> rows.argmax(1));
        fails(IndexOutOfBoundsException.class, "argmin(): Expected reduction dim 0 to have non-zero size.",
                () -> Tensor.zeros(0, 3).argmin(0));
    }

    @Test
    void closedTensors() {
        Tensor x = Tensor.ones(4);
        x.close();
        assertThrows(IllegalStateException.class, x::sum);
        assertThrows(IllegalStateException.class, () -> x.max(0));
        assertThrows(IllegalStateException.class, () -> x.softmax(0));
        assertThrows(IllegalStateException.class, () -> x.cumsum(0));
        assertThrows(IllegalStateException.class, x::mean);
    }
}

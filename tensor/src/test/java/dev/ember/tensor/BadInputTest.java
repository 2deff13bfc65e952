package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/** Bad input gets PyTorch's message (checked against torch 1.13), never a crash or an unchecked native access. */
@ExtendWith(TestTensors.Scoped.class)
class BadInputTest {

    private static void fails(Class<? extends Throwable> type, String message, Executable e) {
        Throwable t = assertThrows(type, e);
        assertEquals(message, t.getMessage());
    }

    private static void failsWith(Class<? extends Throwable> type, String part, Executable e) {
        Throwable t = assertThrows(type, e);
        assertTrue(t.getMessage() != null && t.getMessage().contains(part), "expected \"" + part + "\" in: " + t.getMessage());
    }

    @Test
    void nonBroadcastableShapes() {
        String m = "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1";
        fails(IllegalArgumentException.class, m, () -> Tensor.zeros(2, 3).add(Tensor.zeros(2, 4)));
        fails(IllegalArgumentException.class, m, () -> Tensor.zeros(2, 3).mul(Tensor.zeros(4)));
        fails(IllegalArgumentException.class, m, () -> Tensor.zeros(2, 3).eq(Tensor.zeros(2, 4)));
        fails(IllegalArgumentException.class, m, () -> Tensor.zeros(2, 3).add_(Tensor.zeros(2, 4)));
        fails(IllegalArgumentException.class, m, () -> Tensor.where(Tensor.ones(DType.BOOL, 3), Tensor.zeros(2, 3), Tensor.zeros(4)));
        // rank-differing: aligned from the right, the dim is counted in the broadcast shape
        fails(IllegalArgumentException.class, "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 2",
                () -> Tensor.zeros(2, 3).add(Tensor.zeros(4, 1, 2)));
        fails(IllegalArgumentException.class, "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 0",
                () -> Tensor.zeros(5, 3).mul(Tensor.zeros(4, 1)));
        fails(IllegalArgumentException.class, "output with shape [2, 3] doesn't match the broadcast shape [4, 2, 3]",
                () -> Tensor.zeros(2, 3).add_(Tensor.zeros(4, 2, 3)));
    }

    @Test
    void dimsOutOfRange() {
        Tensor x = Tensor.zeros(2, 3);
        String r2 = "Dimension out of range (expected to be in range of [-2, 1], but got ";
        fails(IndexOutOfBoundsException.class, r2 + "2)", () -> x.transpose(0, 2));
        fails(IndexOutOfBoundsException.class, r2 + "5)", () -> x.permute(0, 5));
        fails(IndexOutOfBoundsException.class, r2 + "-3)", () -> x.select(-3, 0));
        fails(IndexOutOfBoundsException.class, r2 + "5)", () -> x.flatten(0, 5));
        fails(IndexOutOfBoundsException.class, r2 + "-3)", () -> x.squeeze(-3));
        fails(IndexOutOfBoundsException.class, r2 + "2)", () -> x.narrow(2, 0, 1));
        fails(IndexOutOfBoundsException.class, r2 + "2)", () -> x.stride(2));
        fails(IndexOutOfBoundsException.class, r2 + "-3)", () -> x.size(-3));
        fails(IndexOutOfBoundsException.class, r2 + "2)", () -> x.slice(2, 0, 1));
        fails(IndexOutOfBoundsException.class, r2 + "2)", () -> x.unflatten(2, 1, 3));
        fails(IndexOutOfBoundsException.class, "Dimension out of range (expected to be in range of [-3, 2], but got 3)", () -> x.unsqueeze(3));
        // a 0-d tensor takes dim 0 and -1 where PyTorch wraps scalars, and none where it does not
        Tensor s = Tensor.scalar(1);
        String r0 = "Dimension out of range (expected to be in range of [-1, 0], but got ";
        fails(IndexOutOfBoundsException.class, r0 + "5)", () -> s.squeeze(5));
        fails(IndexOutOfBoundsException.class, r0 + "1)", () -> s.transpose(0, 1));
        fails(IndexOutOfBoundsException.class, r0 + "1)", () -> s.flatten(1, 1));
        fails(IndexOutOfBoundsException.class, r0 + "2)", () -> s.unsqueeze(2));
        fails(IndexOutOfBoundsException.class, "Dimension specified as 0 but tensor has no dimensions", () -> s.size(0));
        fails(IndexOutOfBoundsException.class, "Dimension specified as 0 but tensor has no dimensions", () -> s.stride(0));
        fails(IndexOutOfBoundsException.class, "Dimension specified as 0 but tensor has no dimensions", () -> s.unflatten(0, 1));
        fails(IndexOutOfBoundsException.class, "slice() cannot be applied to a 0-dim tensor.", () -> s.slice(0, 0, 1));
        fails(IndexOutOfBoundsException.class, "select() cannot be applied to a 0-dim tensor.", () -> s.select(0, 0));
        fails(IllegalArgumentException.class, "narrow() cannot be applied to a 0-dim tensor.", () -> s.narrow(0, 0, 1));
    }

    @Test
    void indicesOutOfRange() {
        Tensor x = Tensor.zeros(3, 4);
        fails(IndexOutOfBoundsException.class, "select(): index 5 out of range for tensor of size [3, 4] at dimension 0", () -> x.select(0, 5));
        fails(IndexOutOfBoundsException.class, "select(): index -5 out of range for tensor of size [3, 4] at dimension 1",
                () -> x.select(1, -5));
        failsWith(IndexOutOfBoundsException.class, "out of range", () -> x.narrow(1, 5, 1));
        failsWith(IndexOutOfBoundsException.class, "out of range", () -> x.narrow(1, -5, 1));
        fails(IndexOutOfBoundsException.class, "start (1) + length (5) exceeds dimension size (4).", () -> x.narrow(1, 1, 5));
        fails(IndexOutOfBoundsException.class, "start (1) + length (-1) exceeds dimension size (4).", () -> x.narrow(1, 1, -1));
        fails(IndexOutOfBoundsException.class, "index 3 is out of bounds for dimension 0 with size 3", () -> x.get(3, 0));
        fails(IndexOutOfBoundsException.class, "index -5 is out of bounds for dimension 1 with size 4", () -> x.set(1, 0, -5));
        failsWith(IllegalArgumentException.class, "expected 2 indices", () -> x.get(0, 0, 0));
        fails(IllegalStateException.class, "a Tensor with 12 elements cannot be converted to Scalar", x::item);
    }

    @Test
    void negativeAndInvalidShapes() {
        fails(IllegalArgumentException.class, "Trying to create tensor with negative dimension -3: [2, -3]", () -> Tensor.zeros(2, -3));
        fails(IllegalArgumentException.class, "Trying to create tensor with negative dimension -1: [-1]", () -> Tensor.empty(DType.INT64, -1));
        fails(IllegalArgumentException.class, "Trying to create tensor with negative dimension -2: [-2]", () -> Tensor.rand(-2));
        fails(IllegalArgumentException.class, "Trying to create tensor with negative dimension -2: [-2]", () -> Tensor.full(1.0, -2));
        Tensor x = Tensor.zeros(2, 3);
        fails(IllegalArgumentException.class, "invalid shape dimension -2", () -> x.view(-2, 3));
        fails(IllegalArgumentException.class, "only one dimension can be inferred", () -> x.view(-1, -1));
        fails(IllegalArgumentException.class, "shape '[4, -1]' is invalid for input of size 6", () -> x.view(4, -1));
        fails(IllegalArgumentException.class, "shape '[7]' is invalid for input of size 6", () -> x.reshape(7));
        fails(IllegalArgumentException.class, "unflatten: Provided sizes [4, 2] don't multiply up to the size of dim 1 (3) in the input tensor",
                () -> x.unflatten(1, 4, 2));
        fails(IllegalArgumentException.class, "unflatten: sizes must be non-empty", () -> x.unflatten(1));
        fails(IllegalArgumentException.class, "view size is not compatible with input tensor's size and stride (at least one dimension"
                + " spans across two contiguous subspaces). Use .reshape(...) instead.", () -> x.t().view(6));
    }

    @Test
    void permuteTransposeExpand() {
        Tensor x = Tensor.zeros(2, 3);
        fails(IllegalArgumentException.class, "permute(sparse_coo): number of dimensions in the tensor input does not match the length"
                + " of the desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1", () -> x.permute(0));
        fails(IllegalArgumentException.class, "permute(): duplicate dims are not allowed.", () -> x.permute(0, 0));
        fails(IllegalArgumentException.class, "permute(): duplicate dims are not allowed.", () -> x.permute(1, -1));
        fails(IllegalArgumentException.class, "t() expects a tensor with <= 2 dimensions, but self is 3D", () -> Tensor.zeros(2, 3, 4).t());
        fails(IllegalArgumentException.class, "The expanded size of the tensor (4) must match the existing size (3) at non-singleton"
                + " dimension 1.  Target sizes: [2, 4].  Tensor sizes: [3]", () -> Tensor.zeros(3).expand(2, 4));
        failsWith(IllegalArgumentException.class, "the number of sizes provided (1) must be greater or equal to the number of dimensions"
                + " in the tensor (2)", () -> x.expand(3));
        fails(IllegalArgumentException.class, "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0",
                () -> Tensor.zeros(3).expand(-1, 3));
        failsWith(IllegalArgumentException.class, "The expanded size of the tensor (4) must match the existing size (3)",
                () -> Tensor.zeros(3).broadcastTo(4));
        failsWith(IllegalArgumentException.class, "slice step must be positive", () -> x.slice(1, 0, 3, 0));
        fails(IllegalArgumentException.class, "flatten() has invalid args: start_dim cannot come after end_dim", () -> x.flatten(1, 0));
    }

    @Test
    void dtypeErrors() {
        fails(IllegalArgumentException.class, "result type Float can't be cast to the desired output type Long",
                () -> Tensor.zeros(DType.INT64, 2, 3).add_(Tensor.zeros(2, 3)));
        fails(IllegalArgumentException.class, "result type Float can't be cast to the desired output type Int",
                () -> Tensor.zeros(DType.INT32, 2).exp_());
        fails(IllegalArgumentException.class, "result type Long can't be cast to the desired output type Bool",
                () -> Tensor.zeros(DType.BOOL, 2).mul_(Tensor.ones(DType.INT64, 2)));
        fails(IllegalArgumentException.class, "where expected condition to be a boolean tensor, but got a tensor with dtype Long",
                () -> Tensor.where(Tensor.ones(DType.INT64, 2), Tensor.zeros(2), Tensor.zeros(2)));
        fails(IllegalArgumentException.class, "For integral input tensors, argument alpha must not be a floating point number.",
                () -> Tensor.ones(DType.INT32, 2).add(Tensor.ones(DType.INT32, 2), 1.5));
        failsWith(IllegalArgumentException.class, "approximate argument must be either none or tanh", () -> Tensor.zeros(2).gelu("erf"));
        fails(IllegalArgumentException.class, "unsupported operation: more than one element of the written-to tensor refers to a single"
                + " memory location. Please clone() the tensor before performing the operation.",
                () -> Tensor.zeros(1, 3).expand(2, 3).relu_());
    }

    @Test
    void factoryErrors() {
        fails(IllegalArgumentException.class, "step must be nonzero", () -> Tensor.arange(0, 5, 0));
        fails(IllegalArgumentException.class, "upper bound and larger bound inconsistent with step sign", () -> Tensor.arange(5, 0, 1));
        fails(IllegalArgumentException.class, "random_ expects 'from' to be less than 'to', but got from=3 >= to=1",
                () -> Tensor.randint(3, 1, 2));
        fails(IllegalArgumentException.class, "n must be greater or equal to 0, got -2", () -> Tensor.eye(-2));
        fails(IllegalArgumentException.class, "number of steps must be non-negative", () -> Tensor.linspace(0, 1, -3));
        failsWith(IllegalArgumentException.class, "[2, 2]", () -> Tensor.fromArray(new int[] {1, 2, 3}, 2, 2));
    }
}

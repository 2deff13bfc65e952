package dev.ember.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Type promotion against tables printed by PyTorch 1.13 ({@code torch.result_type},
 * {@code torch.can_cast}) for every pair of Ember's dtypes, with each operand a tensor with
 * dimensions, a 0-d tensor, or a Python int/float scalar.
 */
@ExtendWith(TestTensors.Scoped.class)
class PromotionTest {

    /** Row/column order of the tables below. */
    static final DType[] ORDER = {DType.BOOL, DType.UINT8, DType.INT32, DType.INT64, DType.FLOAT16, DType.BFLOAT16,
            DType.FLOAT32, DType.FLOAT64};

    // torch.result_type(a, b); a down, b across
    private static final String DIM_DIM = """
            bool uint8 int32 int64 float16 bfloat16 float32 float64
            uint8 uint8 int32 int64 float16 bfloat16 float32 float64
            int32 int32 int32 int64 float16 bfloat16 float32 float64
            int64 int64 int64 int64 float16 bfloat16 float32 float64
            float16 float16 float16 float16 float16 float32 float32 float64
            bfloat16 bfloat16 bfloat16 bfloat16 float32 bfloat16 float32 float64
            float32 float32 float32 float32 float32 float32 float32 float64
            float64 float64 float64 float64 float64 float64 float64 float64
            """;
    private static final String DIM_ZERO = """
            bool uint8 int32 int64 float16 bfloat16 float32 float64
            uint8 uint8 uint8 uint8 float16 bfloat16 float32 float64
            int32 int32 int32 int32 float16 bfloat16 float32 float64
            int64 int64 int64 int64 float16 bfloat16 float32 float64
            float16 float16 float16 float16 float16 float16 float16 float16
            bfloat16 bfloat16 bfloat16 bfloat16 bfloat16 bfloat16 bfloat16 bfloat16
            float32 float32 float32 float32 float32 float32 float32 float32
            float64 float64 float64 float64 float64 float64 float64 float64
            """;
    private static final String ZERO_DIM = """
            bool uint8 int32 int64 float16 bfloat16 float32 float64
            uint8 uint8 int32 int64 float16 bfloat16 float32 float64
            int32 uint8 int32 int64 float16 bfloat16 float32 float64
            int64 uint8 int32 int64 float16 bfloat16 float32 float64
            float16 float16 float16 float16 float16 bfloat16 float32 float64
            bfloat16 bfloat16 bfloat16 bfloat16 float16 bfloat16 float32 float64
            float32 float32 float32 float32 float16 bfloat16 float32 float64
            float64 float64 float64 float64 float16 bfloat16 float32 float64
            """;
    // two 0-d tensors promote like two tensors with dimensions
    private static final String ZERO_ZERO = DIM_DIM;
    // tensor (dims or 0-d) with a Python int, with a Python float
    private static final String SCALAR = """
            bool int64 float32
            uint8 uint8 float32
            int32 int32 float32
            int64 int64 float32
            float16 float16 float16
            bfloat16 bfloat16 bfloat16
            float32 float32 float32
            float64 float64 float64
            """;
    // torch.can_cast(from, to); from down, to across
    private static final String CAN_CAST = """
            1 1 1 1 1 1 1 1
            0 1 1 1 1 1 1 1
            0 1 1 1 1 1 1 1
            0 1 1 1 1 1 1 1
            0 0 0 0 1 1 1 1
            0 0 0 0 1 1 1 1
            0 0 0 0 1 1 1 1
            0 0 0 0 1 1 1 1
            """;

    private static final DType[][][] TABLES = {parse(DIM_DIM), parse(DIM_ZERO), parse(ZERO_DIM), parse(ZERO_ZERO)};
    private static final DType[][] SCALARS = parse(SCALAR);
    private static final String[][] CASTS = Arrays.stream(CAN_CAST.strip().split("\n")).map(l -> l.strip().split(" "))
            .toArray(String[][]::new);

    private static DType[][] parse(String table) {
        return Arrays.stream(table.strip().split("\n"))
                .map(line -> Arrays.stream(line.strip().split(" ")).map(PromotionTest::byName).toArray(DType[]::new))
                .toArray(DType[][]::new);
    }

    private static DType byName(String n) {
        for (DType t : DType.values()) if (t.torchName().equals(n)) return t;
        throw new AssertionError("no dtype " + n);
    }

    private static int idx(DType t) { return Arrays.asList(ORDER).indexOf(t); }

    /** PyTorch's result type of a binary op between tensors of {@code a} and {@code b}, each 0-d or not. */
    static DType resultType(DType a, boolean aZeroDim, DType b, boolean bZeroDim) {
        return TABLES[(aZeroDim ? 2 : 0) + (bZeroDim ? 1 : 0)][idx(a)][idx(b)];
    }

    /** PyTorch's result type of a tensor of {@code a} with a Python int (or float). */
    static DType scalarResultType(DType a, boolean floatScalar) {
        return SCALARS[idx(a)][floatScalar ? 2 : 1];
    }

    static boolean canCast(DType from, DType to) {
        return CASTS[idx(from)][idx(to)].equals("1");
    }

    private static Tensor make(DType t, boolean zeroDim) {
        return zeroDim ? Tensor.ones(t) : Tensor.ones(t, 2);
    }

    @Test
    void tensorTensorForEveryPairAndRank() {
        for (DType a : ORDER) {
            for (DType b : ORDER) {
                for (int k = 0; k < 4; k++) {
                    boolean a0 = k >= 2, b0 = (k & 1) == 1;
                    DType want = resultType(a, a0, b, b0);
                    String ctx = a + (a0 ? " 0-d" : "") + " with " + b + (b0 ? " 0-d" : "");
                    Tensor x = make(a, a0), y = make(b, b0);
                    assertEquals(want, TypePromotion.resultType(x, y), ctx + ": TypePromotion.resultType");
                    assertEquals(want, x.mul(y).dtype(), ctx + ": mul");
                    assertEquals(want, x.maximum(y).dtype(), ctx + ": maximum");
                    assertEquals(want.isFloatingPoint() ? want : DType.FLOAT32, x.div(y).dtype(), ctx + ": div");
                    assertEquals(DType.BOOL, x.lt(y).dtype(), ctx + ": lt");
                    if (a != DType.BOOL && b != DType.BOOL) assertEquals(want, x.sub(y).dtype(), ctx + ": sub");
                    assertEquals(want, Tensor.where(Tensor.ones(DType.BOOL, 2), x, y).dtype(), ctx + ": where");
                }
            }
        }
    }

    @Test
    void promoteTypesIsTheDimDimTable() {
        for (DType a : ORDER) {
            for (DType b : ORDER) assertEquals(resultType(a, false, b, false), DType.promote(a, b), a + " with " + b);
        }
    }

    @Test
    void tensorWithJavaScalars() {
        for (DType a : ORDER) {
            for (boolean zeroDim : new boolean[] {false, true}) {
                Tensor x = make(a, zeroDim);
                String ctx = a + (zeroDim ? " 0-d" : "");
                assertEquals(scalarResultType(a, false), x.add(1L).dtype(), ctx + " + 1");
                assertEquals(scalarResultType(a, false), x.mul(3L).dtype(), ctx + " * 3");
                assertEquals(scalarResultType(a, true), x.add(2.5).dtype(), ctx + " + 2.5");
                assertEquals(scalarResultType(a, true), x.mul(2.0).dtype(), ctx + " * 2.0 (a float scalar even when integral)");
                DType div = scalarResultType(a, true);
                assertEquals(div, x.div(2.0).dtype(), ctx + " / 2.0");
                assertEquals(DType.BOOL, x.gt(0.5).dtype(), ctx + " > 0.5");
            }
        }
    }

    @Test
    void theExamplesFromTheIssue() {
        Tensor i32 = Tensor.fromArray(new int[] {1, 2});
        assertEquals(DType.FLOAT16, i32.add(Tensor.ones(DType.FLOAT16, 2)).dtype(), "int32 + float16");
        assertEquals(DType.FLOAT32, i32.add(2.5).dtype(), "int32 + 2.5");
        assertEquals(DType.FLOAT16, Tensor.ones(DType.FLOAT16, 2).add(2.5).dtype(), "float16 + 2.5");
        assertEquals(DType.UINT8, Tensor.ones(DType.UINT8, 2).add(1L).dtype(), "uint8 + 1");
        Tensor bb = Tensor.fromArray(new boolean[] {true, false}).add(Tensor.fromArray(new boolean[] {true, false}));
        assertEquals(DType.BOOL, bb.dtype(), "bool + bool");
        assertTrue(bb.toBooleanArray()[0] && !bb.toBooleanArray()[1], "True + True is True");
        assertEquals(DType.INT64, Tensor.ones(DType.BOOL, 2).add(1L).dtype(), "bool + 1");
        assertEquals(DType.FLOAT32, Tensor.scalar(DType.FLOAT64, 1).add(Tensor.ones(3)).dtype(), "0-d float64 + float32 1-d");
        assertEquals(DType.FLOAT64, Tensor.scalar(DType.FLOAT64, 1).add(i32).dtype(), "0-d float64 + int32 1-d");
        assertEquals(DType.INT32, Tensor.scalar(DType.INT64, 1).add(i32).dtype(), "0-d int64 + int32 1-d");
        assertEquals(DType.UINT8, Tensor.scalar(DType.UINT8, 1).add(Tensor.ones(DType.BOOL, 2)).dtype(), "0-d uint8 + bool 1-d");
        assertEquals(DType.FLOAT32, Tensor.ones(DType.BFLOAT16, 2).add(Tensor.ones(DType.FLOAT16, 2)).dtype(), "bf16 + fp16");
        assertEquals(DType.BFLOAT16, Tensor.ones(DType.BFLOAT16, 2).add(Tensor.scalar(DType.FLOAT16, 1)).dtype(), "bf16 + 0-d fp16");
    }

    @Test
    void inPlaceCastRules() {
        for (DType a : ORDER) {
            for (DType b : ORDER) {
                Tensor x = Tensor.ones(a, 2);
                Tensor y = Tensor.ones(b, 2);
                DType result = resultType(a, false, b, false);
                String ctx = a + ".mul_(" + b + ")";
                if (canCast(result, a)) {
                    assertSame(x, x.mul_(y), ctx);
                    assertEquals(a, x.dtype(), ctx);
                } else {
                    var e = assertThrows(IllegalArgumentException.class, () -> x.mul_(y), ctx);
                    assertEquals("result type " + UnaryOpsTest.torchName(result) + " can't be cast to the desired output type "
                            + UnaryOpsTest.torchName(a), e.getMessage(), ctx);
                }
                assertEquals(canCast(a, b), TypePromotion.canCast(a, b), "canCast(" + a + ", " + b + ")");
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT64, 2, 3).add_(Tensor.zeros(2, 3)));
        assertEquals("result type Float can't be cast to the desired output type Long", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT64, 2).add_(2.5));
        assertEquals("result type Float can't be cast to the desired output type Long", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT32, 2).add_(Tensor.scalar(DType.FLOAT64, 2.5)));
        assertEquals("result type Double can't be cast to the desired output type Int", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.BOOL, 2).add_(1L));
        assertEquals("result type Long can't be cast to the desired output type Bool", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT32, 2).div_(Tensor.ones(DType.INT32, 2)));
        assertEquals("result type Float can't be cast to the desired output type Int", e.getMessage());
        // allowed: float16 += float32 computes in float32 and rounds into float16; uint8 += int64 wraps
        Tensor h = Tensor.full(DType.FLOAT16, 1, 2).add_(Tensor.full(0.25, 2));
        assertEquals(DType.FLOAT16, h.dtype());
        assertEquals(1.25, h.get(0));
        Tensor u = Tensor.full(DType.UINT8, 250, 2).add_(Tensor.full(DType.INT64, 10, 2));
        assertEquals(DType.UINT8, u.dtype());
        assertEquals(4, u.get(1));
    }
}

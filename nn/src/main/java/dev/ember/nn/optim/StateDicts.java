package dev.ember.nn.optim;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An optimizer's state dict flattened into named tensors, so it fits a safetensors file (see the
 * package documentation for the keys); {@link StateDictLoader} reads it back.
 */
final class StateDicts {
    static final String STEP = "step";
    static final String PARAMS = "params";

    private StateDicts() {}

    static Map<String, Tensor> save(List<ParamGroup> groups, Map<Tensor, ParamState> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        int index = 0;
        for (ParamGroup g : groups) {
            for (Tensor p : g.params()) {
                ParamState s = state.get(p);
                if (s != null) {
                    String prefix = "state." + index + ".";
                    if (s.step() > 0) out.put(prefix + STEP, Tensor.scalar(DType.FLOAT64, s.step()));
                    s.buffers().forEach((name, buffer) -> out.put(prefix + name, buffer.clone()));
                }
                index++;
            }
        }
        index = 0;
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup g = groups.get(gi);
            String prefix = "param_groups." + gi + ".";
            g.options().forEach((name, value) -> out.put(prefix + name, encode(value)));
            long[] ids = new long[g.params().size()];
            for (int k = 0; k < ids.length; k++) ids[k] = index++;
            out.put(prefix + PARAMS, Tensor.fromArray(ids));
        }
        return out;
    }

    private static Tensor encode(Object option) {
        return switch (option) {
            case Double d -> Tensor.scalar(DType.FLOAT64, d);
            case Boolean b -> Tensor.full(DType.BOOL, b ? 1 : 0);
            case double[] a -> Tensor.fromArray(a.clone());
            default -> throw new IllegalStateException("unexpected option value " + option);
        };
    }

    static Object decode(String key, Tensor t) {
        if (t.dim() == 0 && t.dtype() == DType.BOOL) return t.item() != 0;
        if (t.dim() == 0) return t.item();
        if (t.dim() == 1 && t.dtype().isFloatingPoint()) return t.toDoubleArray();
        throw new IllegalArgumentException(key + ": an option must be a 0-d number, a 0-d bool or a 1-D floating tuple, got shape "
                + Arrays.toString(t.shape()) + " of " + t.dtype());
    }
}

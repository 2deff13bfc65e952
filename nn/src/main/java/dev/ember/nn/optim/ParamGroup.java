package dev.ember.nn.optim;

import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Parameters that share hyperparameters, as one dict of PyTorch's {@code optimizer.param_groups}.
 * Options are named as PyTorch names them ("lr", "momentum", "weight_decay", "betas", ...) and hold
 * a {@code Double}, a {@code Boolean} or a {@code double[]} (only "betas"). An optimizer fills in the
 * options a group leaves out from its defaults; options may be changed between steps (that is how
 * schedulers set "lr").
 *
 * <pre>{@code
 * var opt = new SGD(List.of(ParamGroup.of(backbone).set("lr", 0.01), ParamGroup.of(head)),
 *         SGD.options(0.1).momentum(0.9));
 * }</pre>
 */
public final class ParamGroup {
    private final List<Tensor> params;
    private final Map<String, Object> options;

    private ParamGroup(List<Tensor> params, Map<String, Object> options) {
        this.params = params;
        this.options = options;
    }

    /** A group of {@code params} with no options of its own yet. */
    public static ParamGroup of(Iterable<? extends Tensor> params) {
        List<Tensor> list = new ArrayList<>();
        for (Tensor p : params) list.add(Objects.requireNonNull(p, "a parameter is null"));
        return new ParamGroup(Collections.unmodifiableList(list), new LinkedHashMap<>());
    }

    /** This group's parameters, in order (their order numbers the optimizer's state). */
    public List<Tensor> params() { return params; }

    /** The options, read-only, in the order they were set. */
    public Map<String, Object> options() { return Collections.unmodifiableMap(options); }

    public boolean has(String name) { return options.containsKey(name); }

    public ParamGroup set(String name, double value) { return put(name, value); }

    public ParamGroup set(String name, boolean value) { return put(name, value); }

    /** A tuple-valued option such as "betas". */
    public ParamGroup set(String name, double... values) { return put(name, values.clone()); }

    /** The learning rate; schedulers change it through {@link #setLr}. */
    public double lr() { return getDouble("lr"); }

    public void setLr(double lr) { set("lr", lr); }

    public double getDouble(String name) {
        return get(name) instanceof Double d ? d : wrongType(name, "a number");
    }

    public boolean getBoolean(String name) {
        return get(name) instanceof Boolean b ? b : wrongType(name, "a boolean");
    }

    public double[] getDoubles(String name) {
        return get(name) instanceof double[] a ? a.clone() : wrongType(name, "a tuple of numbers");
    }

    /** Sets {@code name} to a Double, Boolean or double[] (as the state dict decodes them). */
    ParamGroup put(String name, Object value) {
        Objects.requireNonNull(name, "name");
        if (!(value instanceof Double || value instanceof Boolean || value instanceof double[])) {
            throw new IllegalArgumentException("option '" + name + "' must be a number, a boolean or a tuple of numbers, got " + value);
        }
        options.put(name, value);
        return this;
    }

    /** The same parameters with a copy of the options, to validate changes before making them. */
    ParamGroup copy() {
        Map<String, Object> copied = new LinkedHashMap<>();
        options.forEach((k, v) -> copied.put(k, v instanceof double[] a ? a.clone() : v));
        return new ParamGroup(params, copied);
    }

    /** Replaces every option with {@code other}'s (after it was validated as a copy of this group). */
    void setOptionsFrom(ParamGroup other) {
        options.clear();
        options.putAll(other.options);
    }

    private Object get(String name) {
        Object v = options.get(name);
        if (v == null) throw new IllegalArgumentException("parameter group has no option '" + name + "'");
        return v;
    }

    private <T> T wrongType(String name, String expected) {
        throw new IllegalArgumentException("option '" + name + "' must be " + expected + ", got " + Optimizer.describe(options.get(name)));
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("ParamGroup(").append(params.size()).append(" params");
        options.forEach((k, v) -> s.append(", ").append(k).append('=').append(Optimizer.describe(v)));
        return s.append(')').toString();
    }
}

package dev.ember.nn;

import dev.ember.memory.Device;
import dev.ember.nn.io.StateDictCheck;
import dev.ember.tensor.DType;
import dev.ember.tensor.Ember;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * The base of every layer and model, as PyTorch's {@code nn.Module}: it owns named parameters
 * (leaf tensors that require grad), buffers (state that is not trained, such as running
 * statistics) and child modules, each kept in registration order. Names of nested entries are
 * dotted paths ({@code "features.0.weight"}), which is also how {@link #stateDict()} keys them.
 *
 * <pre>{@code
 * class Net extends Module {
 *     final Linear fc1 = registerModule("fc1", new Linear(4, 8));
 *     final Linear fc2 = registerModule("fc2", new Linear(8, 2));
 *     public Tensor forward(Tensor x) { return fc2.apply(fc1.apply(x).relu()); }
 * }
 * }</pre>
 *
 * <p>A module owns its parameters and buffers: {@link #close()} frees them (and their
 * gradients), and no {@link Scope} ever does. {@link #to(DType)} replaces them with converted
 * tensors, so code should reach them through the module ({@link #parameter}, or a layer's
 * accessors such as {@link Linear#weight()}) rather than keep them in fields of its own.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    /** Buffers left out of the state dict (PyTorch's {@code persistent=False}). */
    private final Set<String> transientBuffers = new HashSet<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** The computation; callers use {@link #apply}, which adds the layer's name to shape errors. */
    public abstract Tensor forward(Tensor input);

    /**
     * Runs {@link #forward}. A layer without children (Linear, Conv2d, ...) that rejects its input
     * names itself in the message, so an error deep inside a model says which layer failed:
     * {@code Linear(in_features=3000, out_features=128, bias=True): mat1 and mat2 shapes cannot be
     * multiplied (64x3136 and 3000x128)}. Containers pass their children's errors through as they are.
     */
    public Tensor apply(Tensor input) {
        if (!children.isEmpty()) return forward(input);
        try {
            return forward(input);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(this + ": " + e.getMessage(), e);
        } catch (IndexOutOfBoundsException e) {
            IndexOutOfBoundsException named = new IndexOutOfBoundsException(this + ": " + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    // ---------------------------------------------------------------- registration

    /**
     * Registers {@code tensor} as the parameter {@code name} and returns it as a parameter (see
     * {@link Parameter#of}): from now on this module owns and closes it.
     */
    protected final Tensor registerParameter(String name, Tensor tensor) {
        checkNewName("parameter", name);
        Objects.requireNonNull(tensor, () -> "parameter '" + name + "' is null");
        Tensor parameter = Parameter.of(tensor);
        parameters.put(name, parameter);
        return parameter;
    }

    /** Registers a persistent buffer: saved in the state dict, converted by {@link #to(DType)} if floating. */
    protected final Tensor registerBuffer(String name, Tensor tensor) {
        return registerBuffer(name, tensor, true);
    }

    /** Registers a buffer; a non-persistent one is left out of {@link #stateDict()}. */
    protected final Tensor registerBuffer(String name, Tensor tensor, boolean persistent) {
        checkNewName("buffer", name);
        Objects.requireNonNull(tensor, () -> "buffer '" + name + "' is null");
        buffers.put(name, Scope.escape(tensor));
        if (!persistent) transientBuffers.add(name);
        return tensor;
    }

    /** Registers {@code module} as the child {@code name} and returns it, for field initialisers. */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkNewName("module", name);
        children.put(name, Objects.requireNonNull(module, () -> "module '" + name + "' is null"));
        return module;
    }

    /** PyTorch's rules: a name is non-empty, has no dot (dots join nested names) and is not taken. */
    private void checkNewName(String kind, String name) {
        Objects.requireNonNull(name, kind + " name is null");
        if (name.contains(".")) throw new IllegalArgumentException(kind + " name can't contain \".\", got: " + name);
        if (name.isEmpty()) throw new IllegalArgumentException(kind + " name can't be empty string \"\"");
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("attribute '" + name + "' already exists");
        }
    }

    /** This module's own parameter {@code name} (not a child's), or null if it has none by that name. */
    public final Tensor parameter(String name) { return parameters.get(name); }

    /** This module's own buffer {@code name}, or null. */
    public final Tensor buffer(String name) { return buffers.get(name); }

    // ---------------------------------------------------------------- traversal

    /** The direct children, in registration order. */
    public final List<Module> children() { return List.copyOf(children.values()); }

    public final Map<String, Module> namedChildren() { return Collections.unmodifiableMap(new LinkedHashMap<>(children)); }

    /**
     * This module ({@code ""}) and every descendant, depth first, by dotted name; a module reachable
     * by two paths is listed once, under the first.
     */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", this, out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    private static void collectModules(String prefix, Module m, Map<String, Module> out, Set<Module> seen) {
        if (!seen.add(m)) return;
        out.put(prefix, m);
        for (var child : m.children.entrySet()) collectModules(join(prefix, child.getKey()), child.getValue(), out, seen);
    }

    public final List<Module> modules() { return List.copyOf(namedModules().values()); }

    /** Every parameter of this module and its descendants by dotted name; a shared tensor once. */
    public final Map<String, Tensor> namedParameters() { return collectTensors(m -> m.parameters); }

    public final List<Tensor> parameters() { return List.copyOf(namedParameters().values()); }

    public final Map<String, Tensor> namedBuffers() { return collectTensors(m -> m.buffers); }

    public final List<Tensor> buffers() { return List.copyOf(namedBuffers().values()); }

    private Map<String, Tensor> collectTensors(java.util.function.Function<Module, Map<String, Tensor>> own) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (var m : namedModules().entrySet()) {
            for (var t : own.apply(m.getValue()).entrySet()) {
                if (seen.add(t.getValue())) out.put(join(m.getKey(), t.getKey()), t.getValue());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static String join(String prefix, String name) { return prefix.isEmpty() ? name : prefix + "." + name; }

    // ---------------------------------------------------------------- modes and gradients

    /** Training mode for this module and all descendants (what Dropout and BatchNorm look at). */
    public Module train(boolean mode) {
        training = mode;
        for (Module child : children.values()) child.train(mode);
        return this;
    }

    public final Module train() { return train(true); }

    /** Evaluation mode: Dropout is the identity and BatchNorm uses its running statistics. */
    public final Module eval() { return train(false); }

    public final boolean isTraining() { return training; }

    /** Sets every parameter's gradient to null, as PyTorch's {@code zero_grad(set_to_none=True)}. */
    public final void zeroGrad() {
        for (Tensor p : parameters()) p.setGrad(null);
    }

    /** Turns gradient recording for every parameter on or off (freezing a module). */
    public final Module requiresGrad_(boolean requiresGrad) {
        for (Tensor p : parameters()) p.requiresGrad_(requiresGrad);
        return this;
    }

    // ---------------------------------------------------------------- state dict

    /**
     * Parameters and persistent buffers by dotted name, in PyTorch's order (each module's own
     * parameters, then its buffers, then its children's entries). The values are the module's
     * own tensors, not copies: read them, but close nothing.
     */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        parameters.forEach((name, t) -> out.put(join(prefix, name), t));
        buffers.forEach((name, t) -> {
            if (!transientBuffers.contains(name)) out.put(join(prefix, name), t);
        });
        children.forEach((name, child) -> child.collectState(join(prefix, name), out));
    }

    /** {@link #loadStateDict(Map, boolean)} with strict key matching. */
    public final StateDictCheck loadStateDict(Map<String, Tensor> stateDict) {
        return loadStateDict(stateDict, true);
    }

    /**
     * Copies the values of {@code stateDict} into this module's parameters and buffers (converting
     * dtypes). Every problem is reported at once, in PyTorch's words: missing keys and unexpected
     * keys (errors when {@code strict}) and shape mismatches (always errors); nothing is copied if
     * anything is wrong.
     *
     * @return the missing and unexpected keys, which is what a non-strict load wants to know
     * @throws dev.ember.nn.io.StateDictException listing every problem
     */
    public final StateDictCheck loadStateDict(Map<String, Tensor> stateDict, boolean strict) {
        // parameters require grad, and an in-place copy into such a leaf is only allowed untracked
        try (var off = Ember.noGrad()) {
            return StateDictCheck.loadInto(name(), stateDict(), stateDict, strict);
        }
    }

    // ---------------------------------------------------------------- conversion and lifetime

    /**
     * Converts every floating parameter and buffer to {@code dtype}, as PyTorch's {@code module.to(dtype)};
     * integer buffers (num_batches_tracked) keep theirs. The converted tensors replace the old
     * ones, which are closed along with their gradients: convert a model before handing its
     * parameters to an optimizer.
     */
    public Module to(DType dtype) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("nn.Module.to only accepts floating point dtypes, but got desired dtype=" + dtype);
        }
        return replaceTensors(old -> old.dtype().isFloatingPoint() && old.dtype() != dtype ? old.to(dtype) : null);
    }

    /**
     * Moves every parameter and buffer to {@code device}, as PyTorch's {@code module.to(device)}.
     * The moved tensors replace the old ones, which are closed along with their gradients: move a
     * model before handing its parameters to an optimizer.
     */
    public Module to(Device device) {
        return replaceTensors(old -> old.device().equals(device) ? null : old.to(device));
    }

    /** {@link #to(Device)} with a device named as PyTorch names it: "cpu", "cuda" or "cuda:N". */
    public Module to(String device) {
        return to(Device.parse(device.strip().toLowerCase(Locale.ROOT)));
    }

    /**
     * Replaces each parameter and buffer by {@code change}'s result (null: keep it), as a fresh
     * leaf with the old one's requires-grad flag, and closes the old one. A tensor shared by two
     * modules stays shared.
     */
    private Module replaceTensors(Function<Tensor, Tensor> change) {
        Map<Tensor, Tensor> replaced = new IdentityHashMap<>();
        Function<Tensor, Tensor> replace = old -> replaced.computeIfAbsent(old, t -> {
            Tensor fresh;
            try (var off = Ember.noGrad()) {
                fresh = change.apply(t);
            }
            if (fresh == null) return t;
            fresh = Scope.escape(fresh).requiresGrad_(t.requiresGrad());
            t.close();
            return fresh;
        });
        for (Module m : modules()) {
            m.parameters.replaceAll((name, p) -> replace.apply(p));
            m.buffers.replaceAll((name, b) -> replace.apply(b));
        }
        return this;
    }

    /** Closes every parameter and buffer of this module and its descendants (and their gradients). */
    @Override
    public void close() {
        for (Module m : modules()) {
            m.parameters.values().forEach(Tensor::close);
            m.buffers.values().forEach(Tensor::close);
        }
    }

    // ---------------------------------------------------------------- printing

    /** The class name PyTorch would print; an anonymous subclass gets its binary name. */
    protected String name() {
        String simple = getClass().getSimpleName();
        if (!simple.isEmpty()) return simple;
        String full = getClass().getName();
        return full.substring(full.lastIndexOf('.') + 1);
    }

    /** The arguments shown between the parentheses of this module's repr, as PyTorch's {@code extra_repr}. */
    protected String extraRepr() { return ""; }

    /**
     * PyTorch's module repr: {@code Linear(in_features=4, out_features=2, bias=True)} for a
     * layer, and one indented {@code (name): child} line per child for a container.
     */
    @Override
    public String toString() {
        List<String> lines = new ArrayList<>();
        String extra = extraRepr();
        if (!extra.isEmpty()) lines.addAll(List.of(extra.split("\n")));
        for (var child : children.entrySet()) {
            lines.add("(" + child.getKey() + "): " + child.getValue().toString().replace("\n", "\n  "));
        }
        if (lines.isEmpty()) return name() + "()";
        if (children.isEmpty() && lines.size() == 1) return name() + "(" + lines.get(0) + ")";
        return name() + "(\n  " + String.join("\n  ", lines) + "\n)";
    }
}

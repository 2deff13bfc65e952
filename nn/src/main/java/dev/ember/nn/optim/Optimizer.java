package dev.ember.nn.optim;

import dev.ember.tensor.Ember;
import dev.ember.tensor.FusedOptimizers;
import dev.ember.tensor.Scope;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The base of the optimizers, as PyTorch's {@code torch.optim.Optimizer}: parameter groups with
 * their hyperparameters, per-parameter state, {@link #step()}, {@link #zeroGrad()} and a state
 * dict. A subclass supplies the update rule for one parameter and the checks of a group's options.
 *
 * <p>{@link #step()} runs with grad mode off (parameters are changed in place, which autograd
 * refuses on graph tensors otherwise) and updates each parameter inside its own scope, so every
 * temporary of an update is freed before the next parameter's: a step allocates nothing that
 * outlives it except state made on a parameter's first step. Parameters whose grad is null are
 * skipped, and their state does not advance.
 *
 * <p>An optimizer owns its state buffers: {@link #close()} frees them. It never closes the
 * parameters or their gradients.
 */
@SuppressWarnings("try") // grad-mode guards and scopes are held for their effect, not used by name
public abstract class Optimizer implements AutoCloseable {
    /** The option a scheduler adds to each group: the lr it started from. */
    static final String INITIAL_LR = "initial_lr";

    private final Map<String, Object> defaults;
    private final List<ParamGroup> groups = new ArrayList<>();
    private final Map<Tensor, ParamState> state = new IdentityHashMap<>();
    private boolean closed;

    /**
     * @param groups   the parameter groups (at least one); options they leave out are filled in
     *                 from {@code defaults}
     * @param defaults every option this optimizer has, with its default value
     */
    @SuppressWarnings("this-escape") // validate() and stateNames() read only the group they are given, never subclass fields
    protected Optimizer(List<ParamGroup> groups, Map<String, Object> defaults) {
        this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
        if (groups.isEmpty()) throw new IllegalArgumentException("optimizer got an empty parameter list");
        for (ParamGroup g : groups) addParamGroup(g);
    }

    /** A single group holding {@code params}; fails as PyTorch does when there are none. */
    static List<ParamGroup> singleGroup(Iterable<? extends Tensor> params) {
        ParamGroup g = ParamGroup.of(params);
        if (g.params().isEmpty()) throw new IllegalArgumentException("optimizer got an empty parameter list");
        return List.of(g);
    }

    /**
     * Updates {@code param} in place from {@code grad}. Runs with grad mode off inside a scope that
     * closes every tensor made here, so buffers that must persist go into {@code state}.
     */
    protected abstract void update(ParamGroup group, Tensor param, Tensor grad, ParamState state);

    /** Checks a group's option values, throwing IllegalArgumentException with PyTorch's message. */
    protected abstract void validate(ParamGroup group);

    /** The names a parameter's saved state holds under {@code group}'s options ("step" is the step count). */
    protected abstract Set<String> stateNames(ParamGroup group);

    // ---------------------------------------------------------------- groups

    /** The groups, in order; change their options (such as lr) between steps as needed. */
    public List<ParamGroup> paramGroups() { return Collections.unmodifiableList(groups); }

    /** Every option of this optimizer with its default value. */
    public Map<String, Object> defaults() { return defaults; }

    /**
     * Adds a group, filling the options it leaves out from the defaults (the group object itself is
     * changed and becomes live), as PyTorch's add_param_group.
     */
    public void addParamGroup(ParamGroup group) {
        checkOpen();
        Objects.requireNonNull(group, "group");
        defaults.forEach((name, value) -> {
            if (!group.has(name)) group.put(name, value instanceof double[] a ? a.clone() : value);
        });
        checkGroup(group);
        Set<Tensor> others = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ParamGroup g : groups) others.addAll(g.params());
        Set<Tensor> own = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor p : group.params()) {
            if (!p.isLeaf()) throw new IllegalArgumentException("can't optimize a non-leaf Tensor");
            if (others.contains(p)) throw new IllegalArgumentException("some parameters appear in more than one parameter group");
            // PyTorch only warns here; a parameter listed twice would be updated twice per step
            if (!own.add(p)) throw new IllegalArgumentException("optimizer contains a parameter group with duplicate parameters");
        }
        groups.add(group);
    }

    /** Known option names with values of the defaults' types, then the subclass's checks. */
    void checkGroup(ParamGroup group) {
        for (Map.Entry<String, Object> e : group.options().entrySet()) {
            String name = e.getKey();
            Object expected = name.equals(INITIAL_LR) ? 0.0 : defaults.get(name);
            if (expected == null) {
                throw new IllegalArgumentException(getClass().getSimpleName() + " has no option '" + name + "' (its options: "
                        + String.join(", ", defaults.keySet()) + ")");
            }
            if (expected.getClass() != e.getValue().getClass()) {
                String want = expected instanceof Double ? "a number" : expected instanceof Boolean ? "a boolean" : "a tuple of numbers";
                throw new IllegalArgumentException("option '" + name + "' of " + getClass().getSimpleName() + " must be " + want
                        + ", got " + describe(e.getValue()));
            }
        }
        validate(group);
    }

    // ---------------------------------------------------------------- stepping

    /** Updates every parameter that has a gradient, once. */
    public void step() {
        checkOpen();
        try (var noGrad = Ember.noGrad()) {
            List<Slot> slots = new ArrayList<>();
            boolean fusable = true;
            for (ParamGroup group : groups) {
                for (Tensor param : group.params()) {
                    Tensor grad = param.grad();
                    if (grad == null) continue;
                    slots.add(new Slot(group, param, grad, state.computeIfAbsent(param, p -> new ParamState())));
                    fusable &= FusedOptimizers.fits(param, grad);
                }
            }
            if (fusable && !slots.isEmpty() && stepFused(slots)) return;
            for (Slot s : slots) {
                try (Scope temporaries = Ember.scope()) {
                    update(s.group(), s.param(), s.grad(), s.state());
                }
            }
        }
    }

    /** One parameter a step updates: its group, the parameter, its gradient and its state. */
    protected record Slot(ParamGroup group, Tensor param, Tensor grad, ParamState state) {}

    /**
     * Updates every slot at once with a fused device kernel, when the subclass has one; called
     * only when every parameter and gradient {@link FusedOptimizers#fits fits} such a kernel
     * (contiguous; on the CPU, float32). Returns false, having changed nothing, to take the
     * per-parameter path.
     */
    protected boolean stepFused(List<Slot> slots) { return false; }

    /**
     * Evaluates {@code closure} with grad mode on (it should zero the grads, compute the loss and
     * call backward), then steps, as PyTorch's step(closure). Returns the closure's loss.
     */
    public Tensor step(Supplier<Tensor> closure) {
        Tensor loss;
        try (var grad = Ember.enableGrad()) {
            loss = closure.get();
        }
        step();
        return loss;
    }

    /** The state of {@code param}, or null before its first step. */
    public ParamState state(Tensor param) {
        return state.get(param);
    }

    /** Sets every parameter's grad to null, as PyTorch's zero_grad() (set_to_none=True) does. */
    public void zeroGrad() { zeroGrad(true); }

    /**
     * With {@code setToNone}, drops the grads (freeing their memory; step then skips those
     * parameters until backward gives them new ones); otherwise fills them with zeros in place.
     */
    public void zeroGrad(boolean setToNone) {
        try (var noGrad = Ember.noGrad()) {
            for (ParamGroup group : groups) {
                for (Tensor p : group.params()) {
                    Tensor g = p.grad();
                    if (g == null) continue;
                    if (setToNone) {
                        p.setGrad(null);
                    } else {
                        // a grad from a create-graph backward is itself part of a graph: cut it off first
                        if (g.requiresGrad()) {
                            p.setGrad(g.detach());
                            g = p.grad();
                        }
                        g.zero_();
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- state dict

    /**
     * The optimizer's state as flat tensors a safetensors file can hold (see the package
     * documentation for the keys). The tensors are copies that the caller owns: close them, or
     * call this inside a scope.
     */
    public Map<String, Tensor> stateDict() {
        checkOpen();
        return StateDicts.save(groups, state);
    }

    /**
     * Replaces the state and the groups' options with those in {@code stateDict} (as written by
     * {@link #stateDict()}), copying the buffers into the parameters' dtype. The caller keeps
     * ownership of the map's tensors. Everything is checked before anything changes: parameter
     * groups of different sizes, option values PyTorch would refuse, missing or unexpected keys and
     * buffers whose shape differs from their parameter's all fail, listing the problems.
     */
    public void loadStateDict(Map<String, Tensor> stateDict) {
        checkOpen();
        StateDictLoader.Loaded loaded;
        try (var noGrad = Ember.noGrad()) {
            loaded = StateDictLoader.load(this, groups, stateDict);
        }
        for (int g = 0; g < groups.size(); g++) groups.get(g).setOptionsFrom(loaded.groups().get(g));
        clearState();
        state.putAll(loaded.states());
    }

    /** Frees the state buffers. The optimizer cannot be used afterwards; closing again does nothing. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        clearState();
    }

    private void clearState() {
        for (ParamState s : state.values()) s.close();
        state.clear();
    }

    static String describe(Object optionValue) {
        return optionValue instanceof double[] a ? java.util.Arrays.toString(a) : String.valueOf(optionValue);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(getClass().getSimpleName() + " was used after close()");
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(getClass().getSimpleName()).append(" (");
        for (int i = 0; i < groups.size(); i++) {
            s.append("\nParameter Group ").append(i);
            groups.get(i).options().forEach((k, v) -> s.append("\n    ").append(k).append(": ").append(describe(v)));
        }
        return s.append("\n)").toString();
    }
}

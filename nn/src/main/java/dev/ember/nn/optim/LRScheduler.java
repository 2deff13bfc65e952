package dev.ember.nn.optim;

import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The base of learning-rate schedulers, as PyTorch's {@code _LRScheduler}: it records each group's
 * starting lr as "initial_lr" (keeping one already there, so a resumed optimizer keeps its
 * origin), takes the initial step to epoch 0 on construction, and on each {@link #step()} sets
 * every group's lr from the previous one, as PyTorch's chainable form does (not its closed form,
 * which gives slightly different floating-point results). Call it after {@link Optimizer#step()}.
 */
public abstract class LRScheduler {
    private final Optimizer optimizer;
    private double[] baseLrs;
    private long lastEpoch;
    private long stepCount;
    private double[] lastLr;

    protected LRScheduler(Optimizer optimizer) {
        this.optimizer = optimizer;
        List<ParamGroup> groups = optimizer.paramGroups();
        baseLrs = new double[groups.size()];
        for (int i = 0; i < baseLrs.length; i++) {
            ParamGroup g = groups.get(i);
            if (!g.has(Optimizer.INITIAL_LR)) g.set(Optimizer.INITIAL_LR, g.lr());
            baseLrs[i] = g.getDouble(Optimizer.INITIAL_LR);
        }
        // the initial step: epoch 0 keeps the optimizer's lrs, for every schedule
        lastEpoch = 0;
        stepCount = 1;
        lastLr = currentLrs();
    }

    /**
     * A group's lr for epoch {@link #lastEpoch()} (already advanced, so at least 1), from the lr the
     * group has now and the lr it started from.
     */
    protected abstract double nextLr(double currentLr, double baseLr);

    /** Advances one epoch and sets each group's lr. */
    public void step() {
        stepCount++;
        lastEpoch++;
        List<ParamGroup> groups = optimizer.paramGroups();
        if (groups.size() != baseLrs.length) {
            throw new IllegalStateException("the optimizer has " + groups.size() + " parameter groups, but this scheduler was made for "
                    + baseLrs.length);
        }
        for (int i = 0; i < groups.size(); i++) {
            ParamGroup g = groups.get(i);
            g.setLr(nextLr(g.lr(), baseLrs[i]));
        }
        lastLr = currentLrs();
    }

    /** The lrs the last step set, one per group, as PyTorch's get_last_lr(). */
    public List<Double> getLastLr() {
        List<Double> out = new ArrayList<>(lastLr.length);
        for (double lr : lastLr) out.add(lr);
        return out;
    }

    /** Steps taken since epoch 0. */
    public long lastEpoch() { return lastEpoch; }

    public Optimizer optimizer() { return optimizer; }

    /**
     * The scheduler's progress as tensors, with PyTorch's names: "last_epoch" and "_step_count"
     * (0-d int64), "base_lrs" and "_last_lr" (1-D float64). The hyperparameters are not included:
     * they come from the constructor. The tensors are new and belong to the caller.
     */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("last_epoch", Tensor.scalar(DType.INT64, lastEpoch));
        out.put("_step_count", Tensor.scalar(DType.INT64, stepCount));
        out.put("base_lrs", Tensor.fromArray(baseLrs.clone()));
        out.put("_last_lr", Tensor.fromArray(lastLr.clone()));
        return out;
    }

    /** Restores what {@link #stateDict()} saved; the optimizer's lrs come from its own state dict. */
    public void loadStateDict(Map<String, Tensor> state) {
        List<String> missing = new ArrayList<>();
        for (String key : List.of("last_epoch", "_step_count", "base_lrs", "_last_lr")) {
            if (!state.containsKey(key)) missing.add('"' + key + '"');
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("Missing key(s) in scheduler state_dict: " + String.join(", ", missing) + ".");
        }
        double[] base = state.get("base_lrs").toDoubleArray();
        double[] last = state.get("_last_lr").toDoubleArray();
        if (base.length != baseLrs.length || last.length != baseLrs.length) {
            throw new IllegalArgumentException("loaded scheduler state has " + base.length + " base lrs, but the optimizer has "
                    + baseLrs.length + " parameter groups");
        }
        lastEpoch = state.get("last_epoch").itemLong();
        stepCount = state.get("_step_count").itemLong();
        baseLrs = base;
        lastLr = last;
    }

    private double[] currentLrs() {
        return optimizer.paramGroups().stream().mapToDouble(ParamGroup::lr).toArray();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(last_epoch=" + lastEpoch + ", last_lr=" + Arrays.toString(lastLr) + ")";
    }
}

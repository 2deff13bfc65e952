package dev.ember.nn.optim;

import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a flat state dict (see {@link StateDicts}) against an optimizer's groups: checks it and
 * builds the options and state it would load, changing nothing, so a failed load leaves the
 * optimizer as it was. Saved parameters map to the optimizer's by group and position, as in
 * PyTorch. Every missing key, unexpected key and shape mismatch is reported in one exception.
 */
final class StateDictLoader {
    // at most 9 digits, so any index parses as an int; longer ones are reported as unexpected keys
    private static final Pattern STATE_KEY = Pattern.compile("state\\.(\\d{1,9})\\.(.+)");
    private static final Pattern GROUP_KEY = Pattern.compile("param_groups\\.(\\d{1,9})\\.(.+)");

    /** What a successful load puts in place: each group's options (as checked copies) and the new state. */
    record Loaded(List<ParamGroup> groups, Map<Tensor, ParamState> states) {}

    private final Optimizer optimizer;
    private final List<ParamGroup> groups;
    private final Map<Integer, Map<String, Tensor>> groupEntries = new TreeMap<>();
    private final Map<Integer, Map<String, Tensor>> stateEntries = new TreeMap<>();
    private final Map<Integer, Tensor> paramById = new LinkedHashMap<>();
    private final Map<Tensor, ParamGroup> stagedGroupOf = new IdentityHashMap<>();
    private final List<String> missing = new ArrayList<>();
    private final List<String> unexpected = new ArrayList<>();
    private final List<String> mismatches = new ArrayList<>();

    private StateDictLoader(Optimizer optimizer, List<ParamGroup> groups) {
        this.optimizer = optimizer;
        this.groups = groups;
    }

    static Loaded load(Optimizer optimizer, List<ParamGroup> groups, Map<String, Tensor> dict) {
        StateDictLoader loader = new StateDictLoader(optimizer, groups);
        loader.sort(dict);
        List<ParamGroup> staged = loader.stageGroups();
        Map<Tensor, ParamState> states = new IdentityHashMap<>();
        try {
            loader.stageStates(states);
            loader.throwIfAnyProblem();
        } catch (RuntimeException e) {
            states.values().forEach(ParamState::close);
            throw e;
        }
        return new Loaded(staged, states);
    }

    /** Sorts the keys into group options and per-parameter state; anything else is unexpected. */
    private void sort(Map<String, Tensor> dict) {
        for (Map.Entry<String, Tensor> e : dict.entrySet()) {
            Matcher s = STATE_KEY.matcher(e.getKey());
            Matcher g = GROUP_KEY.matcher(e.getKey());
            if (s.matches()) {
                stateEntries.computeIfAbsent(Integer.parseInt(s.group(1)), k -> new LinkedHashMap<>()).put(s.group(2), e.getValue());
            } else if (g.matches()) {
                groupEntries.computeIfAbsent(Integer.parseInt(g.group(1)), k -> new LinkedHashMap<>()).put(g.group(2), e.getValue());
            } else {
                unexpected.add(e.getKey());
            }
        }
    }

    /**
     * Copies of the groups with the saved options in place, checked as the optimizer checks a new
     * group. PyTorch's two structural errors are thrown at once, on their own.
     */
    private List<ParamGroup> stageGroups() {
        for (int gi = 0; gi < Math.max(groups.size(), groupEntries.size()); gi++) {
            if (gi >= groups.size() || !groupEntries.containsKey(gi)) {
                throw new IllegalArgumentException("loaded state dict has a different number of parameter groups");
            }
        }
        List<ParamGroup> staged = new ArrayList<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup current = groups.get(gi);
            ParamGroup copy = current.copy();
            String prefix = "param_groups." + gi + ".";
            Map<String, Tensor> entries = groupEntries.get(gi);
            Tensor ids = entries.remove(StateDicts.PARAMS);
            if (ids == null) {
                missing.add(prefix + StateDicts.PARAMS);
            } else {
                if (ids.dim() != 1 || ids.numel() != current.params().size()) {
                    throw new IllegalArgumentException("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
                }
                long[] saved = ids.toLongArray();
                for (int k = 0; k < saved.length; k++) {
                    if (saved[k] >= 0 && saved[k] <= Integer.MAX_VALUE) paramById.put((int) saved[k], current.params().get(k));
                }
            }
            entries.forEach((name, t) -> copy.put(name, StateDicts.decode(prefix + name, t)));
            optimizer.checkGroup(copy);
            for (Tensor p : current.params()) stagedGroupOf.put(p, copy);
            staged.add(copy);
        }
        return staged;
    }

    /** Builds each saved parameter's state into {@code states}, noting what is missing, unexpected or misshapen. */
    private void stageStates(Map<Tensor, ParamState> states) {
        stateEntries.forEach((id, entries) -> {
            String prefix = "state." + id + ".";
            Tensor param = paramById.get(id);
            if (param == null) {
                entries.keySet().forEach(name -> unexpected.add(prefix + name));
                return;
            }
            Set<String> expected = optimizer.stateNames(stagedGroupOf.get(param));
            for (String name : expected) {
                if (!entries.containsKey(name)) missing.add(prefix + name);
            }
            ParamState s = new ParamState();
            states.put(param, s);
            entries.forEach((name, t) -> {
                long[] want = name.equals(StateDicts.STEP) ? new long[0] : param.shape();
                if (!expected.contains(name)) {
                    unexpected.add(prefix + name);
                } else if (!Arrays.equals(t.shape(), want)) {
                    mismatches.add("size mismatch for " + prefix + name + ": copying a param with shape " + Arrays.toString(t.shape())
                            + " from checkpoint, the shape in current model is " + Arrays.toString(want) + ".");
                } else if (name.equals(StateDicts.STEP)) {
                    s.setStep((long) t.item());
                } else {
                    // state takes its parameter's dtype, as PyTorch casts it on load
                    s.put(name, Tensor.emptyLike(param)).copy_(t);
                }
            });
        });
    }

    private void throwIfAnyProblem() {
        List<String> errors = new ArrayList<>();
        if (!missing.isEmpty()) errors.add("Missing key(s) in state_dict: " + quoted(missing) + ".");
        if (!unexpected.isEmpty()) errors.add("Unexpected key(s) in state_dict: " + quoted(unexpected) + ".");
        errors.addAll(mismatches);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("Error(s) in loading state_dict for " + optimizer.getClass().getSimpleName()
                    + ":\n\t" + String.join("\n\t", errors));
        }
    }

    private static String quoted(List<String> keys) {
        StringBuilder out = new StringBuilder();
        for (String k : keys) out.append(out.isEmpty() ? "" : ", ").append('"').append(k).append('"');
        return out.toString();
    }
}

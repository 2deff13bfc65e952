package dev.ember.nn.io;

import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a loaded state dict differs from the one a model expects: keys the model has and the
 * checkpoint lacks, keys the checkpoint has and the model lacks, and keys present in both with
 * different shapes. This is the check behind {@code Module.loadStateDict} and the optimizers'
 * equivalent.
 *
 * @param missingKeys in the expected map's order
 * @param unexpectedKeys in the loaded map's order
 * @param sizeMismatches in the expected map's order
 */
public record StateDictCheck(List<String> missingKeys, List<String> unexpectedKeys, List<SizeMismatch> sizeMismatches) {
    /** A key whose tensor has a different shape in the checkpoint than in the model. */
    public record SizeMismatch(String key, List<Long> checkpointShape, List<Long> modelShape) {
        public SizeMismatch {
            checkpointShape = List.copyOf(checkpointShape);
            modelShape = List.copyOf(modelShape);
        }
    }

    public StateDictCheck {
        missingKeys = List.copyOf(missingKeys);
        unexpectedKeys = List.copyOf(unexpectedKeys);
        sizeMismatches = List.copyOf(sizeMismatches);
    }

    /** Compares key sets and shapes; dtypes may differ, since loading converts them. */
    public static StateDictCheck compare(Map<String, Tensor> expected, Map<String, Tensor> loaded) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(loaded, "loaded");
        List<String> missing = new ArrayList<>();
        List<SizeMismatch> mismatches = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor source = loaded.get(e.getKey());
            if (source == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(source.shape(), e.getValue().shape())) {
                mismatches.add(new SizeMismatch(e.getKey(), boxed(source.shape()), boxed(e.getValue().shape())));
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String key : loaded.keySet()) {
            if (!expected.containsKey(key)) unexpected.add(key);
        }
        return new StateDictCheck(missing, unexpected, mismatches);
    }

    /**
     * Checks {@code loaded} against {@code expected} and, if it fits, copies every loaded value into
     * the expected tensor of the same key (in place, converting dtype as {@code copy_} does).
     * Nothing is copied unless everything fits, so a failed load leaves the model as it was.
     *
     * <p>With {@code strict}, missing and unexpected keys are errors; without it they are only
     * reported in the returned check, and the keys both maps share are loaded. Size mismatches are
     * errors either way, as in PyTorch.
     *
     * @param owner the name to report, as PyTorch reports the module's class name
     * @throws StateDictException listing every problem at once
     */
    public static StateDictCheck loadInto(String owner, Map<String, Tensor> expected, Map<String, Tensor> loaded, boolean strict) {
        StateDictCheck check = compare(expected, loaded);
        check.throwIfIncompatible(owner, strict);
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor source = loaded.get(e.getKey());
            if (source != null) e.getValue().copy_(source);
        }
        return check;
    }

    /** Whether loading would succeed. */
    public boolean isCompatible(boolean strict) {
        return errors(strict).isEmpty();
    }

    /** The problems as PyTorch words them: missing keys, then unexpected keys, then each size mismatch. */
    public List<String> errors(boolean strict) {
        List<String> errors = new ArrayList<>();
        if (strict && !missingKeys.isEmpty()) errors.add("Missing key(s) in state_dict: " + quotedList(missingKeys) + ".");
        if (strict && !unexpectedKeys.isEmpty()) errors.add("Unexpected key(s) in state_dict: " + quotedList(unexpectedKeys) + ".");
        for (SizeMismatch m : sizeMismatches) {
            errors.add("size mismatch for " + m.key() + ": copying a param with shape " + m.checkpointShape()
                    + " from checkpoint, the shape in current model is " + m.modelShape() + ".");
        }
        return errors;
    }

    /** Throws one exception listing every problem, if there is any. */
    public void throwIfIncompatible(String owner, boolean strict) {
        List<String> errors = errors(strict);
        if (!errors.isEmpty()) {
            throw new StateDictException("Error(s) in loading state_dict for " + owner + ":\n\t" + String.join("\n\t", errors), this);
        }
    }

    private static String quotedList(List<String> keys) {
        StringBuilder out = new StringBuilder();
        for (String k : keys) out.append(out.isEmpty() ? "" : ", ").append('"').append(k).append('"');
        return out.toString();
    }

    private static List<Long> boxed(long[] shape) {
        return Arrays.stream(shape).boxed().toList();
    }
}

package dev.ember.nn;

import dev.ember.tensor.GradMode;
import dev.ember.tensor.Tensor;
import java.util.Iterator;
import java.util.List;

/**
 * Modules applied one after another, as {@code nn.Sequential}; they are its children named
 * "0", "1", ..., which is how their parameters are named ("0.weight").
 */
public class Sequential extends Module implements Iterable<Module> {
    public Sequential(Module... modules) { this(List.of(modules)); }

    public Sequential(List<? extends Module> modules) {
        for (Module m : modules) append(m);
    }

    /** Adds {@code module} at the end, named by its position. */
    public Sequential append(Module module) {
        registerModule(Integer.toString(size()), module);
        return this;
    }

    /** The module at {@code index}; a negative index counts from the end, as in Python. */
    public Module get(int index) {
        int n = size();
        if (index < -n || index >= n) throw new IndexOutOfBoundsException("index " + index + " is out of range");
        return children().get(index < 0 ? index + n : index);
    }

    public int size() { return children().size(); }

    @Override
    public Iterator<Module> iterator() { return children().iterator(); }

    /**
     * Runs the layers in order. With grad mode off nothing is saved for backward, so each
     * intermediate result is closed as soon as the next layer has used it: inference then holds
     * two activations at a time instead of all of them until the enclosing scope ends. (Closing
     * a handle only drops its reference; a view the next layer returned keeps the memory.)
     */
    @Override
    public Tensor forward(Tensor input) {
        boolean release = !GradMode.isEnabled();
        Tensor x = input;
        for (Module m : children()) {
            Tensor y = m.apply(x);
            if (release && x != input && y != x) x.close();
            x = y;
        }
        return x;
    }
}

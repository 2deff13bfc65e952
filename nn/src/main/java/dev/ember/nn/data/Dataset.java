package dev.ember.nn.data;

/**
 * A collection of examples that can be read by index, as torch.utils.data.Dataset (a "map-style"
 * dataset). A {@link DataLoader} reads it from worker threads, so {@link #get} must be safe to
 * call from several threads at once.
 *
 * @param <T> the type of one example
 */
public interface Dataset<T> {
    /** The number of examples. */
    int size();

    /** The example at {@code index}, in {@code [0, size())}. */
    T get(int index);
}

package dev.ember.nn.data;

/**
 * A dataset that can assemble a whole batch in one go. A {@link DataLoader} uses this when the
 * dataset offers it, instead of reading examples one by one and stacking them: one gather of rows
 * is far cheaper than B small tensors and a stack.
 */
public interface BatchGather {
    /**
     * The examples at {@code indices}, in that order, as one batch of new tensors that the
     * caller owns. Called from worker threads, possibly several at once.
     */
    Batch gather(int[] indices);
}

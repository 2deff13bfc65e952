package dev.ember.nn;

import dev.ember.tensor.Tensor;

/** Merges dims startDim..endDim into one, as {@code nn.Flatten} (by default all but the batch dim). */
public class Flatten extends Module {
    private final int startDim;
    private final int endDim;

    /** Dims 1..-1: [N, C, H, W] becomes [N, C*H*W]. */
    public Flatten() { this(1, -1); }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public Tensor forward(Tensor input) { return input.flatten(startDim, endDim); }

    @Override
    protected String extraRepr() { return "start_dim=" + startDim + ", end_dim=" + endDim; }
}

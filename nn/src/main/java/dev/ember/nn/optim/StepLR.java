package dev.ember.nn.optim;

/**
 * Multiplies each group's lr by {@code gamma} every {@code stepSize} epochs, as
 * torch.optim.lr_scheduler.StepLR: lr = initial_lr * gamma^(epoch / stepSize) (integer division).
 */
public final class StepLR extends LRScheduler {
    private final long stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, long stepSize, double gamma) {
        // checked before the base class touches the optimizer's groups
        if (stepSize <= 0) throw new IllegalArgumentException("step_size must be positive, got " + stepSize);
        this.stepSize = stepSize;
        this.gamma = gamma;
        super(optimizer);
    }

    /** gamma 0.1, as PyTorch's default. */
    public StepLR(Optimizer optimizer, long stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    @Override
    protected double nextLr(double currentLr, double baseLr) {
        return lastEpoch() % stepSize == 0 ? currentLr * gamma : currentLr;
    }
}

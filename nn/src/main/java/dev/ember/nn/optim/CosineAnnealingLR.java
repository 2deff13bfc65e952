package dev.ember.nn.optim;

/**
 * Anneals each group's lr from its initial value to {@code etaMin} along half a cosine over
 * {@code tMax} epochs, then back up, and so on, as torch.optim.lr_scheduler.CosineAnnealingLR:
 * in closed form lr = etaMin + (initial_lr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2. Like
 * PyTorch's step(), it computes each lr from the previous one with the same formulas, so its
 * numbers are PyTorch's (up to the last bit of cos), including how an lr set by hand carries on.
 */
public final class CosineAnnealingLR extends LRScheduler {
    private final long tMax;
    private final double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, long tMax, double etaMin) {
        // checked before the base class touches the optimizer's groups
        if (tMax <= 0) throw new IllegalArgumentException("T_max must be positive, got " + tMax);
        this.tMax = tMax;
        this.etaMin = etaMin;
        super(optimizer);
    }

    /** etaMin 0, as PyTorch's default. */
    public CosineAnnealingLR(Optimizer optimizer, long tMax) {
        this(optimizer, tMax, 0);
    }

    @Override
    protected double nextLr(double currentLr, double baseLr) {
        long epoch = lastEpoch();
        if (Math.floorMod(epoch - 1 - tMax, 2 * tMax) == 0) {
            // at the bottom of the cosine the ratio below divides by zero; step up by the first increment instead
            return currentLr + (baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
        }
        return (1 + Math.cos(Math.PI * epoch / tMax)) / (1 + Math.cos(Math.PI * (epoch - 1) / tMax)) * (currentLr - etaMin) + etaMin;
    }
}

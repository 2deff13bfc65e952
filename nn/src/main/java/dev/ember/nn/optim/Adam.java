package dev.ember.nn.optim;

import dev.ember.tensor.FusedOptimizers;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adam (Kingma and Ba), optionally AMSGrad, with weight decay as an L2 penalty added to the
 * gradient; torch.optim.Adam's single-tensor update exactly, including its order of operations:
 *
 * <pre>
 * step += 1
 * g = grad (negated when maximize) + weight_decay * param
 * exp_avg    = beta1 * exp_avg    + (1 - beta1) * g
 * exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
 * v     = max(max_exp_avg_sq, exp_avg_sq) if amsgrad (and kept), else exp_avg_sq
 * denom = sqrt(v) / sqrt(1 - beta2^step) + eps
 * param += (-lr / (1 - beta1^step)) * exp_avg / denom
 * </pre>
 *
 * State per parameter: "step", "exp_avg", "exp_avg_sq" and, with amsgrad, "max_exp_avg_sq".
 * For decoupled weight decay use {@link AdamW}.
 */
public class Adam extends Optimizer {
    static final String EXP_AVG = "exp_avg";
    static final String EXP_AVG_SQ = "exp_avg_sq";
    static final String MAX_EXP_AVG_SQ = "max_exp_avg_sq";

    /** Adam over {@code params} with PyTorch's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8). */
    public Adam(Iterable<? extends Tensor> params) {
        this(params, options());
    }

    public Adam(Iterable<? extends Tensor> params, Options options) {
        this(singleGroup(params), options);
    }

    /** Adam over several groups; each group's unset options come from {@code defaults}. */
    public Adam(List<ParamGroup> groups, Options defaults) {
        super(groups, defaults.toMap());
    }

    /** Adam's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static Options options() { return new Options(0); }

    @Override
    protected void validate(ParamGroup group) {
        double lr = group.lr(), eps = group.getDouble("eps"), wd = group.getDouble("weight_decay");
        double[] betas = group.getDoubles("betas");
        if (betas.length != 2) throw new IllegalArgumentException("betas must hold two values, got " + betas.length);
        if (!(lr >= 0)) throw new IllegalArgumentException("Invalid learning rate: " + PyFloat.repr(lr));
        if (!(eps >= 0)) throw new IllegalArgumentException("Invalid epsilon value: " + PyFloat.repr(eps));
        for (int i = 0; i < 2; i++) {
            if (!(betas[i] >= 0 && betas[i] < 1)) {
                throw new IllegalArgumentException("Invalid beta parameter at index " + i + ": " + PyFloat.repr(betas[i]));
            }
        }
        if (!(wd >= 0)) throw new IllegalArgumentException("Invalid weight_decay value: " + PyFloat.repr(wd));
    }

    @Override
    protected Set<String> stateNames(ParamGroup group) {
        return group.getBoolean("amsgrad")
                ? Set.of(StateDicts.STEP, EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ)
                : Set.of(StateDicts.STEP, EXP_AVG, EXP_AVG_SQ);
    }

    @Override
    protected void update(ParamGroup group, Tensor param, Tensor grad, ParamState state) {
        Tensor g = group.getBoolean("maximize") ? grad.neg() : grad;
        double weightDecay = group.getDouble("weight_decay");
        if (weightDecay != 0) g = g.add(param, weightDecay);
        applyMoments(group, param, g, state);
    }

    /** Whether weight decay is decoupled from the gradient (AdamW) rather than an L2 term (Adam). */
    boolean decoupledWeightDecay() { return false; }

    /** All parameters in one launch per device and dtype, with the update above (optim.cu). */
    @Override
    protected boolean stepFused(List<Slot> slots) {
        for (Slot s : slots) {
            if (!s.param().isCuda()) return false; // no fused CPU Adam: the per-parameter path
            for (Tensor buf : s.state().buffers().values()) {
                if (!FusedOptimizers.fitsState(s.param(), buf)) return false;
            }
        }
        List<FusedOptimizers.Adam> updates = new ArrayList<>(slots.size());
        for (Slot s : slots) {
            ParamGroup g = s.group();
            Tensor param = s.param();
            ParamState state = s.state();
            double[] betas = g.getDoubles("betas");
            boolean amsgrad = g.getBoolean("amsgrad");
            Tensor expAvg = state.buffer(EXP_AVG, () -> Tensor.zerosLike(param));
            Tensor expAvgSq = state.buffer(EXP_AVG_SQ, () -> Tensor.zerosLike(param));
            Tensor maxExpAvgSq = amsgrad ? state.buffer(MAX_EXP_AVG_SQ, () -> Tensor.zerosLike(param)) : null;
            long step = state.incrementStep();
            // formed in double exactly as applyMoments does
            double stepSize = g.lr() / (1 - Math.pow(betas[0], step));
            double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(betas[1], step));
            updates.add(new FusedOptimizers.Adam(param, s.grad(), expAvg, expAvgSq, maxExpAvgSq, g.lr(), betas[0],
                    betas[1], g.getDouble("eps"), g.getDouble("weight_decay"), stepSize, biasCorrection2Sqrt,
                    decoupledWeightDecay(), g.getBoolean("maximize"), amsgrad));
        }
        FusedOptimizers.adam(updates);
        return true;
    }

    /**
     * The part Adam and AdamW share: advance the step and the moment estimates from {@code g}
     * (the gradient as the variant prepared it) and move {@code param} by the bias-corrected ratio.
     */
    static void applyMoments(ParamGroup group, Tensor param, Tensor g, ParamState state) {
        double[] betas = group.getDoubles("betas");
        double beta1 = betas[0], beta2 = betas[1];
        boolean amsgrad = group.getBoolean("amsgrad");
        Tensor expAvg = state.buffer(EXP_AVG, () -> Tensor.zerosLike(param));
        Tensor expAvgSq = state.buffer(EXP_AVG_SQ, () -> Tensor.zerosLike(param));
        long step = state.incrementStep();

        expAvg.mul_(beta1).add_(g, 1 - beta1);
        // addcmul_(g, g, value=1-beta2) computes (value * g) * g; keep its rounding
        expAvgSq.mul_(beta2).add_(g.mul(1 - beta2).mul_(g));

        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = group.lr() / biasCorrection1;

        Tensor v = expAvgSq;
        if (amsgrad) {
            Tensor max = state.buffer(MAX_EXP_AVG_SQ, () -> Tensor.zerosLike(param));
            v = max.copy_(max.maximum(expAvgSq));
        }
        Tensor denom = v.sqrt().div_(biasCorrection2Sqrt).add_(group.getDouble("eps"));
        // addcdiv_(exp_avg, denom, value=-step_size) computes (value * exp_avg) / denom, then adds
        param.add_(expAvg.mul(-stepSize).div_(denom));
    }

    /** Options of Adam and AdamW with PyTorch's names; start from {@link Adam#options()} or {@link AdamW#options()}. */
    public static final class Options {
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;
        private boolean amsgrad;
        private boolean maximize;

        Options(double weightDecay) { this.weightDecay = weightDecay; }

        public Options lr(double value) { lr = value; return this; }

        /** Decay rates of the first and second moment estimates. */
        public Options betas(double b1, double b2) { beta1 = b1; beta2 = b2; return this; }

        /** Added to the denominator for numerical stability. */
        public Options eps(double value) { eps = value; return this; }

        /** L2 penalty for Adam; the decoupled decay rate for AdamW. */
        public Options weightDecay(double value) { weightDecay = value; return this; }

        /** Normalise by the running maximum of the second moment (AMSGrad). */
        public Options amsgrad(boolean value) { amsgrad = value; return this; }

        /** Ascend the objective instead of descending it. */
        public Options maximize(boolean value) { maximize = value; return this; }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lr", lr);
            m.put("betas", new double[] {beta1, beta2});
            m.put("eps", eps);
            m.put("weight_decay", weightDecay);
            m.put("amsgrad", amsgrad);
            m.put("maximize", maximize);
            return m;
        }
    }
}

package dev.ember.nn.optim;

import dev.ember.tensor.FusedOptimizers;
import dev.ember.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum, L2 weight
 * decay and maximisation, with torch.optim.SGD's exact update (its single-tensor form):
 *
 * <pre>
 * g = grad (negated when maximize) + weight_decay * param
 * if momentum != 0:
 *     buf = g on the first step (no dampening), else buf = momentum * buf + (1 - dampening) * g
 *     g   = g + momentum * buf if nesterov, else buf
 * param -= lr * g
 * </pre>
 *
 * The momentum buffer is state "momentum_buffer".
 */
public final class SGD extends Optimizer {
    static final String MOMENTUM_BUFFER = "momentum_buffer";

    /** SGD over {@code params} with learning rate {@code lr} and no momentum. */
    public SGD(Iterable<? extends Tensor> params, double lr) {
        this(params, options(lr));
    }

    public SGD(Iterable<? extends Tensor> params, Options options) {
        this(singleGroup(params), options);
    }

    /** SGD over several groups; each group's unset options come from {@code defaults}. */
    public SGD(List<ParamGroup> groups, Options defaults) {
        super(groups, defaults.toMap());
    }

    /** Options starting from PyTorch's defaults; SGD has no default learning rate. */
    public static Options options(double lr) { return new Options(lr); }

    @Override
    protected void validate(ParamGroup group) {
        double lr = group.lr(), momentum = group.getDouble("momentum"), dampening = group.getDouble("dampening");
        if (!(lr >= 0)) throw new IllegalArgumentException("Invalid learning rate: " + PyFloat.repr(lr));
        if (!(momentum >= 0)) throw new IllegalArgumentException("Invalid momentum value: " + PyFloat.repr(momentum));
        double wd = group.getDouble("weight_decay");
        if (!(wd >= 0)) throw new IllegalArgumentException("Invalid weight_decay value: " + PyFloat.repr(wd));
        if (group.getBoolean("nesterov") && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
        }
    }

    @Override
    protected Set<String> stateNames(ParamGroup group) {
        return group.getDouble("momentum") != 0 ? Set.of(MOMENTUM_BUFFER) : Set.of();
    }

    @Override
    protected void update(ParamGroup group, Tensor param, Tensor grad, ParamState state) {
        double momentum = group.getDouble("momentum"), weightDecay = group.getDouble("weight_decay");
        Tensor d = group.getBoolean("maximize") ? grad.neg() : grad;
        if (weightDecay != 0) d = d.add(param, weightDecay);
        if (momentum != 0) {
            Tensor buf = state.buffer(MOMENTUM_BUFFER);
            if (buf == null) {
                buf = state.put(MOMENTUM_BUFFER, d.clone());
            } else {
                buf.mul_(momentum).add_(d, 1 - group.getDouble("dampening"));
            }
            d = group.getBoolean("nesterov") ? d.add(buf, momentum) : buf;
        }
        param.add_(d, -group.lr());
    }

    /**
     * The update above fused: on CUDA all parameters in one launch per device and dtype
     * (optim.cu), on the CPU one pass per float32 parameter (CpuSgd), with the same bits as
     * {@link #update}.
     */
    @Override
    protected boolean stepFused(List<Slot> slots) {
        for (Slot s : slots) {
            Tensor buf = s.state().buffer(MOMENTUM_BUFFER);
            if (buf != null && !FusedOptimizers.fitsState(s.param(), buf)) return false;
        }
        List<FusedOptimizers.Sgd> updates = new ArrayList<>(slots.size());
        for (Slot s : slots) {
            ParamGroup g = s.group();
            double momentum = g.getDouble("momentum");
            Tensor buf = null;
            boolean first = false;
            if (momentum != 0) {
                buf = s.state().buffer(MOMENTUM_BUFFER);
                first = buf == null; // the kernel starts the buffer from the gradient, so it need not be zeroed
                if (first) buf = s.state().put(MOMENTUM_BUFFER, Tensor.emptyLike(s.param()));
            }
            updates.add(new FusedOptimizers.Sgd(s.param(), s.grad(), buf, g.lr(), momentum, g.getDouble("dampening"),
                    g.getDouble("weight_decay"), g.getBoolean("nesterov"), g.getBoolean("maximize"), first));
        }
        FusedOptimizers.sgd(updates);
        return true;
    }

    /** SGD's options with PyTorch's names and defaults (momentum 0, dampening 0, weight decay 0). */
    public static final class Options {
        private double lr;
        private double momentum;
        private double dampening;
        private double weightDecay;
        private boolean nesterov;
        private boolean maximize;

        private Options(double lr) { this.lr = lr; }

        public Options lr(double value) { lr = value; return this; }

        public Options momentum(double value) { momentum = value; return this; }

        public Options dampening(double value) { dampening = value; return this; }

        /** L2 penalty: weightDecay * param is added to the gradient. */
        public Options weightDecay(double value) { weightDecay = value; return this; }

        public Options nesterov(boolean value) { nesterov = value; return this; }

        /** Ascend the objective instead of descending it. */
        public Options maximize(boolean value) { maximize = value; return this; }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lr", lr);
            m.put("momentum", momentum);
            m.put("dampening", dampening);
            m.put("weight_decay", weightDecay);
            m.put("nesterov", nesterov);
            m.put("maximize", maximize);
            return m;
        }
    }
}

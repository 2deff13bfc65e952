package dev.ember.tensor.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SGD's update of one contiguous float32 parameter in a single pass over param, grad and the
 * momentum buffer, where the per-op form (SGD.update) makes three to five. Each step rounds
 * exactly as that form's float32 ops do, so the two give the same bits:
 *
 * <pre>
 * d = grad, negated when maximizing
 * d = fma(param, wd, d)                       (d.add(param, wd); when wd != 0)
 * buf = d on the first step, else fma(d, keep, buf * momentum)     (buf.mul_(m).add_(d, 1 - dampening))
 * d = fma(buf, momentum, d) when nesterov, else buf
 * param = fma(d, -lr, param)                  (param.add_(d, -lr))
 * </pre>
 *
 * An add with alpha 1 is a plain add in the per-op form, and fma(x, 1, y) rounds x + y once,
 * as the add does. Vector and scalar fma are both exact, so the split into vectors and
 * threads does not change a bit.
 */
public final class CpuSgd {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** The update's hyperparameters, as the float32 scalars the per-op form computes with. */
    public record Options(float negLr, float momentum, float keep, float weightDecay, boolean nesterov, boolean maximize) {}

    private CpuSgd() {}

    /**
     * Updates {@code n} floats of the parameter at byte {@code p} of {@code param} from the
     * gradient's at byte {@code g}; {@code buf} (byte {@code b}) is null without momentum, and
     * is written from scratch when {@code first}.
     */
    public static void step(Options o, long n, MemorySegment param, long p, MemorySegment grad, long g,
            MemorySegment buf, long b, boolean first) {
        Parallel.forRange(n, Parallel.GRAIN, (lo, hi) -> {
            FloatVector wd = FloatVector.broadcast(F, o.weightDecay), keep = FloatVector.broadcast(F, o.keep);
            FloatVector momentum = FloatVector.broadcast(F, o.momentum), negLr = FloatVector.broadcast(F, o.negLr);
            long i = lo;
            for (long end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                long at = i * Float.BYTES;
                FloatVector w = FloatVector.fromMemorySegment(F, param, p + at, ORDER);
                FloatVector d = FloatVector.fromMemorySegment(F, grad, g + at, ORDER);
                if (o.maximize) d = d.neg();
                if (o.weightDecay != 0) d = w.fma(wd, d);
                if (buf != null) {
                    FloatVector m = first ? d : d.fma(keep, FloatVector.fromMemorySegment(F, buf, b + at, ORDER).mul(momentum));
                    m.intoMemorySegment(buf, b + at, ORDER);
                    d = o.nesterov ? m.fma(momentum, d) : m;
                }
                d.fma(negLr, w).intoMemorySegment(param, p + at, ORDER);
            }
            for (; i < hi; i++) {
                long at = i * Float.BYTES;
                float w = param.get(Elements.F32, p + at), d = grad.get(Elements.F32, g + at);
                if (o.maximize) d = -d;
                if (o.weightDecay != 0) d = Math.fma(w, o.weightDecay, d);
                if (buf != null) {
                    float m = first ? d : Math.fma(d, o.keep, buf.get(Elements.F32, b + at) * o.momentum);
                    buf.set(Elements.F32, b + at, m);
                    d = o.nesterov ? Math.fma(m, o.momentum, d) : m;
                }
                param.set(Elements.F32, p + at, Math.fma(d, o.negLr, w));
            }
        });
    }
}

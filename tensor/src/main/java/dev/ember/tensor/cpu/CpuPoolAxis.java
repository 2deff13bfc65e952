package dev.ember.tensor.cpu;

/**
 * The pooling windows along one axis (height or width), precomputed once per call so the
 * kernels' inner loops only read them. Output position o pools input positions lo[o],
 * lo[o] + step, ... below hi[o]; {@code span[o]} is the window's extent counted for averaging
 * (which may include padding; null for max pooling).
 */
public record CpuPoolAxis(int[] lo, int[] hi, int[] span, int step) {

    public int outSize() { return lo.length; }

    /** Whether output o pools exactly inputs 2o and 2o + 1, for every o: a 2-wide window at stride 2, never cut. */
    boolean pairs() {
        if (step != 1) return false;
        for (int o = 0; o < lo.length; o++) {
            if (lo[o] != 2 * o || hi[o] != 2 * o + 2) return false;
        }
        return true;
    }

    /**
     * Max pooling, as PyTorch: the window of o starts at o·stride − pad, its first tap is moved
     * past the padding by whole dilations, and it ends at the input's edge.
     */
    public static CpuPoolAxis max(int in, int out, int kernel, int stride, int pad, int dilation) {
        int[] lo = new int[out], hi = new int[out];
        for (int o = 0; o < out; o++) {
            int start = o * stride - pad;
            hi[o] = Math.min(start + (kernel - 1) * dilation + 1, in);
            while (start < 0) start += dilation;
            lo[o] = start;
        }
        return new CpuPoolAxis(lo, hi, null, dilation);
    }

    /**
     * Average pooling, as PyTorch: the window [o·stride − pad, + kernel) is cut at the padded
     * edge to give the span that counts when padding is included, then at the input's edge.
     */
    public static CpuPoolAxis avg(int in, int out, int kernel, int stride, int pad, boolean countIncludePad) {
        int[] lo = new int[out], hi = new int[out], span = new int[out];
        for (int o = 0; o < out; o++) {
            int start = o * stride - pad, end = Math.min(start + kernel, in + pad);
            lo[o] = Math.max(start, 0);
            hi[o] = Math.min(end, in);
            span[o] = countIncludePad ? end - start : hi[o] - lo[o];
        }
        return new CpuPoolAxis(lo, hi, span, 1);
    }

    /** Adaptive average pooling: o pools [floor(o·in/out), ceil((o+1)·in/out)). */
    public static CpuPoolAxis adaptive(int in, int out) {
        int[] lo = new int[out], hi = new int[out], span = new int[out];
        for (int o = 0; o < out; o++) {
            lo[o] = (int) ((long) o * in / out);
            hi[o] = (int) (((long) (o + 1) * in + out - 1) / out);
            span[o] = hi[o] - lo[o];
        }
        return new CpuPoolAxis(lo, hi, span, 1);
    }
}

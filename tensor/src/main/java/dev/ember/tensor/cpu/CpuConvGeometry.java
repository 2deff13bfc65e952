package dev.ember.tensor.cpu;

/**
 * The sizes of one 2-D convolution over NCHW images, checked and with its output size already
 * computed by the caller. Weights are [outChannels, inChannels / groups, kernelH, kernelW].
 *
 * <p>The column matrix that im2col builds for one image has {@link #colRows()} rows, one per
 * (input channel, kernel row, kernel column) in that order, so group g's rows are the
 * contiguous block starting at g·{@link #groupColRows()}, and {@link #outPlane()} columns, one
 * per output pixel.
 */
public record CpuConvGeometry(int batch, int inChannels, int inH, int inW, int outChannels,
        int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW,
        int groups, int outH, int outW) {

    public int groupInChannels() { return inChannels / groups; }

    public int groupOutChannels() { return outChannels / groups; }

    /** Rows of one group's slice of the column matrix: the inner dimension of its product. */
    public int groupColRows() { return groupInChannels() * kernelH * kernelW; }

    public int colRows() { return inChannels * kernelH * kernelW; }

    public int inPlane() { return inH * inW; }

    public int outPlane() { return outH * outW; }

    public long inImage() { return (long) inChannels * inPlane(); }

    public long outImage() { return (long) outChannels * outPlane(); }

    /**
     * Whether the column matrix is the image itself: a 1×1 kernel, stride 1 and no padding make
     * every column one input pixel, so im2col and col2im are skipped.
     */
    public boolean pointwise() {
        return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0;
    }
}

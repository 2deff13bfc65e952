package dev.ember.tensor.cuda;

import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The geometry of index.cu's layout kernels (gather, scatter, scatter_add, masked_fill), as
 * their {@code EmberIndexLayout} struct passed by value (280 bytes, 8-byte aligned): sizes[8] at
 * 0, self_strides[8] at 64, index_strides[8] at 128, other_strides[8] at 192, dim_size at 256,
 * dim_stride at 264, ndim (int32) at 272, a reserved int32 (0) at 276. Strides and sizes are in
 * elements.
 *
 * <p>The iteration shape is simplified as {@link CudaLayout} does it (size-1 dims dropped,
 * neighbours that every operand walks as one merged). That keeps the row-major order of
 * positions, which the kernels' error report relies on: a reported position is the row-major
 * position in the shape the caller gave, and {@link #indexOffsetAt} finds the index element
 * there.
 */
public final class CudaIndexLayout {
    public static final long BYTES = 280;

    private final CudaLayout geometry;
    private final long dimSize;
    private final long dimStride;

    private CudaIndexLayout(CudaLayout geometry, long dimSize, long dimStride) {
        this.geometry = geometry;
        this.dimSize = dimSize;
        this.dimStride = dimStride;
    }

    /**
     * @param shape        the iteration shape (index's for gather/scatter, self's for masked_fill)
     * @param selfStrides  self's strides over the shape; 0 along the indexed dim (the index supplies it)
     * @param indexStrides the index's strides (all 0 for masked_fill)
     * @param otherStrides gather's out, scatter's src, masked_fill's (broadcast) mask
     * @param dimSize      self's size along the indexed dim: valid indices are [0, dimSize)
     * @param dimStride    self's stride along the indexed dim
     */
    public static CudaIndexLayout of(long[] shape, long[] selfStrides, long[] indexStrides, long[] otherStrides, long dimSize,
            long dimStride) {
        return new CudaIndexLayout(CudaLayout.of(shape, selfStrides, indexStrides, otherStrides), dimSize, dimStride);
    }

    public long numel() { return geometry.numel(); }

    public long dimSize() { return dimSize; }

    /** The index operand's element offset (from its element 0) at row-major position {@code position}. */
    public long indexOffsetAt(long position) { return geometry.offsetsAt(position)[1]; }

    /** The struct, as the kernels read it (native byte order; entries past ndim and the reserved word are 0). */
    public MemorySegment toStruct(SegmentAllocator arena) {
        MemorySegment m = arena.allocate(BYTES, 8).fill((byte) 0);
        long[] sizes = geometry.sizes();
        for (int d = 0; d < sizes.length; d++) {
            m.setAtIndex(ValueLayout.JAVA_LONG, d, sizes[d]);
            for (int k = 0; k < 3; k++) {
                m.setAtIndex(ValueLayout.JAVA_LONG, 8 * (k + 1) + d, geometry.strides(k)[d]);
            }
        }
        m.set(ValueLayout.JAVA_LONG, 256, dimSize);
        m.set(ValueLayout.JAVA_LONG, 264, dimStride);
        m.set(ValueLayout.JAVA_INT, 272, sizes.length);
        return m;
    }
}

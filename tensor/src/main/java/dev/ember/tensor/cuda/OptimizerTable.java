package dev.ember.tensor.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The per-tensor tables of the fused optimizer kernels (native-kernels/src/main/cuda/optim.cu,
 * whose header is the contract): 80-byte SGD records and 120-byte Adam records, back to back,
 * each naming its tensors by device address and carrying its group's options, so one launch
 * updates every parameter of every group. The work is cut into chunks of {@link #CHUNK_ELEMS}
 * elements; a record's {@code first_chunk} is the number of chunks before it. Pure layout: it
 * writes host memory only, so it is tested without a GPU.
 */
public final class OptimizerTable {
    public static final int SGD_RECORD_BYTES = 80;
    public static final int ADAM_RECORD_BYTES = 120;
    /** The chunk size optim.cu suggests: 64 elements per thread of a 256-thread block. */
    public static final long CHUNK_ELEMS = 16384;

    static final int SGD_NESTEROV = 1, SGD_MAXIMIZE = 2, SGD_FIRST_STEP = 4;
    static final int ADAM_DECOUPLED = 1, ADAM_MAXIMIZE = 2, ADAM_AMSGRAD = 4;

    private final MemorySegment table;
    private final int recordBytes;
    private int records;
    private long chunks;

    private OptimizerTable(MemorySegment table, int recordBytes) {
        this.table = table;
        this.recordBytes = recordBytes;
    }

    /** A table for SGD records written into {@code table} (at least count * 80 bytes, 8-aligned). */
    public static OptimizerTable sgd(MemorySegment table) { return new OptimizerTable(table, SGD_RECORD_BYTES); }

    /** A table for Adam/AdamW records written into {@code table} (at least count * 120 bytes, 8-aligned). */
    public static OptimizerTable adam(MemorySegment table) { return new OptimizerTable(table, ADAM_RECORD_BYTES); }

    /**
     * Appends one SGD record. {@code momentumBuffer} is 0 when momentum is 0; {@code firstStep}
     * makes the kernel start the buffer from the gradient, as the CPU's missing state does.
     */
    public void addSgd(long param, long grad, long momentumBuffer, long numel, double lr, double momentum,
            double dampening, double weightDecay, boolean nesterov, boolean maximize, boolean firstStep) {
        long at = next(SGD_RECORD_BYTES, numel);
        putAddresses(at, param, grad, momentumBuffer);
        table.set(ValueLayout.JAVA_LONG, at + 24, numel);
        table.set(ValueLayout.JAVA_LONG, at + 32, chunks);
        table.set(ValueLayout.JAVA_DOUBLE, at + 40, lr);
        table.set(ValueLayout.JAVA_DOUBLE, at + 48, momentum);
        table.set(ValueLayout.JAVA_DOUBLE, at + 56, dampening);
        table.set(ValueLayout.JAVA_DOUBLE, at + 64, weightDecay);
        int flags = (nesterov ? SGD_NESTEROV : 0) | (maximize ? SGD_MAXIMIZE : 0) | (firstStep ? SGD_FIRST_STEP : 0);
        table.set(ValueLayout.JAVA_INT, at + 72, flags);
        table.set(ValueLayout.JAVA_INT, at + 76, 0);
        advance(numel);
    }

    /**
     * Appends one Adam record; {@code stepSize} = lr / (1 - beta1^step) and
     * {@code biasCorrection2Sqrt} = sqrt(1 - beta2^step) for the tensor's step after its increment.
     */
    public void addAdam(long param, long grad, long expAvg, long expAvgSq, long maxExpAvgSq, long numel, double lr,
            double beta1, double beta2, double eps, double weightDecay, double stepSize, double biasCorrection2Sqrt,
            boolean decoupled, boolean maximize, boolean amsgrad) {
        long at = next(ADAM_RECORD_BYTES, numel);
        putAddresses(at, param, grad, expAvg);
        table.set(ValueLayout.JAVA_LONG, at + 24, expAvgSq);
        table.set(ValueLayout.JAVA_LONG, at + 32, maxExpAvgSq);
        table.set(ValueLayout.JAVA_LONG, at + 40, numel);
        table.set(ValueLayout.JAVA_LONG, at + 48, chunks);
        double[] options = {lr, beta1, beta2, eps, weightDecay, stepSize, biasCorrection2Sqrt};
        for (int i = 0; i < options.length; i++) table.set(ValueLayout.JAVA_DOUBLE, at + 56 + 8L * i, options[i]);
        int flags = (decoupled ? ADAM_DECOUPLED : 0) | (maximize ? ADAM_MAXIMIZE : 0) | (amsgrad ? ADAM_AMSGRAD : 0);
        table.set(ValueLayout.JAVA_INT, at + 112, flags);
        table.set(ValueLayout.JAVA_INT, at + 116, 0);
        advance(numel);
    }

    private long next(int bytes, long numel) {
        if (bytes != recordBytes) throw new IllegalStateException("an SGD and an Adam record in one table");
        if (numel < 0) throw new IllegalArgumentException("numel must be >= 0, got " + numel);
        long at = (long) records * recordBytes;
        if (at + recordBytes > table.byteSize()) {
            throw new IndexOutOfBoundsException("table of " + table.byteSize() + " bytes is full after " + records + " records");
        }
        return at;
    }

    private void putAddresses(long at, long a, long b, long c) {
        table.set(ValueLayout.JAVA_LONG, at, a);
        table.set(ValueLayout.JAVA_LONG, at + 8, b);
        table.set(ValueLayout.JAVA_LONG, at + 16, c);
    }

    private void advance(long numel) {
        records++;
        chunks += (numel + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
    }

    public int records() { return records; }

    /** Chunks over all records so far: the launch's grid and the kernel's {@code total_chunks}. */
    public long totalChunks() { return chunks; }

    /** Bytes written so far. */
    public long bytes() { return (long) records * recordBytes; }
}

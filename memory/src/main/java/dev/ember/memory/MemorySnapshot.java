package dev.ember.memory;

import java.util.List;

/**
 * Every segment an allocator holds and the blocks in it, taken together with its statistics
 * under one lock, so the two agree. {@link #toJson()} writes the layout of PyTorch's
 * {@code torch.cuda.memory_snapshot()} segments, plus the statistics.
 *
 * @param device   the allocator's device name
 * @param segments segments in address order
 * @param stats    statistics at the same instant
 */
public record MemorySnapshot(String device, List<SegmentInfo> segments, AllocatorStats stats) {

    public MemorySnapshot {
        segments = List.copyOf(segments);
    }

    /**
     * One segment.
     *
     * @param address   device address of its first byte
     * @param totalSize bytes obtained from the device
     * @param stream    the stream that owns it and all its blocks
     * @param small     true for the small pool (2 MiB segments for requests up to 1 MiB)
     * @param blocks    its blocks in address order, covering it exactly
     */
    public record SegmentInfo(long address, long totalSize, long stream, boolean small, List<BlockInfo> blocks) {
        public SegmentInfo {
            blocks = List.copyOf(blocks);
        }

        /** Bytes in allocated blocks. */
        public long allocatedSize() {
            return blocks.stream().filter(b -> b.state() == BlockState.ALLOCATED).mapToLong(BlockInfo::size).sum();
        }

        /** Bytes in allocated blocks and blocks waiting for events. */
        public long activeSize() {
            return blocks.stream().filter(b -> b.state() != BlockState.FREE).mapToLong(BlockInfo::size).sum();
        }
    }

    /**
     * One block.
     *
     * @param address       device address of its first byte
     * @param size          bytes
     * @param requestedSize bytes asked for when allocated; 0 for free blocks
     * @param state         allocated, waiting for events, or free
     */
    public record BlockInfo(long address, long size, long requestedSize, BlockState state) {
    }

    /** The snapshot as a JSON object; addresses and streams are numbers, as in PyTorch. */
    public String toJson() {
        StringBuilder out = new StringBuilder(256 + segments.size() * 200);
        out.append("{\"device\":");
        string(out, device);
        out.append(",\"segments\":[");
        for (int i = 0; i < segments.size(); i++) {
            SegmentInfo s = segments.get(i);
            if (i > 0) {
                out.append(',');
            }
            out.append("{\"address\":").append(s.address())
                    .append(",\"total_size\":").append(s.totalSize())
                    .append(",\"allocated_size\":").append(s.allocatedSize())
                    .append(",\"active_size\":").append(s.activeSize())
                    .append(",\"stream\":").append(s.stream())
                    .append(",\"segment_type\":\"").append(s.small() ? "small" : "large")
                    .append("\",\"blocks\":[");
            for (int j = 0; j < s.blocks().size(); j++) {
                BlockInfo b = s.blocks().get(j);
                if (j > 0) {
                    out.append(',');
                }
                out.append("{\"address\":").append(b.address())
                        .append(",\"size\":").append(b.size())
                        .append(",\"requested_size\":").append(b.requestedSize())
                        .append(",\"state\":\"").append(b.state().jsonName()).append("\"}");
            }
            out.append("]}");
        }
        out.append("],\"stats\":{");
        stat(out, "allocated_bytes", stats.allocatedBytes()).append(',');
        stat(out, "reserved_bytes", stats.reservedBytes()).append(',');
        stat(out, "active_bytes", stats.activeBytes()).append(',');
        stat(out, "inactive_split_bytes", stats.inactiveSplitBytes()).append(',');
        stat(out, "allocation", stats.allocations()).append(',');
        stat(out, "segment", stats.segments()).append(',');
        stat(out, "active", stats.activeBlocks()).append(',');
        stat(out, "inactive_split", stats.inactiveSplitBlocks());
        out.append(",\"num_device_alloc\":").append(stats.deviceMallocs())
                .append(",\"num_device_free\":").append(stats.deviceFrees())
                .append(",\"num_alloc_retries\":").append(stats.allocRetries())
                .append(",\"num_ooms\":").append(stats.ooms())
                .append("}}");
        return out.toString();
    }

    private static StringBuilder stat(StringBuilder out, String name, Stat stat) {
        return out.append('"').append(name).append("\":{\"current\":").append(stat.current())
                .append(",\"peak\":").append(stat.peak())
                .append(",\"allocated\":").append(stat.allocated())
                .append(",\"freed\":").append(stat.freed()).append('}');
    }

    private static void string(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}

package dev.ember.tensor;

/**
 * A tensor a graph node needs in backward, with the version it had when saved. Unpacking checks
 * that it was neither closed nor changed in place since, with PyTorch's message. It holds no
 * storage reference: intermediates die with their scope, so a training step's memory is
 * released at its end whether or not backward ran.
 */
final class SavedTensor {
    private final Tensor tensor;
    private final int version;
    private final int outputOf;
    /** The node that made a saved input (null for leaves and for the saving node's own output), for the message. */
    private final Node producer;

    SavedTensor(Tensor tensor, boolean isOutput) {
        this.tensor = tensor;
        this.version = tensor.version();
        this.outputOf = isOutput ? 0 : -1;
        this.producer = isOutput ? null : tensor.gradFn();
    }

    Tensor unpack(Node node) {
        if (tensor.isClosed()) {
            throw new IllegalStateException("A tensor of shape " + Shapes.format(tensor.shape) + " saved by " + node.name()
                    + " for backward was closed before backward() ran. Keep the forward's tensors open (run backward"
                    + " inside the scope that made them).");
        }
        if (tensor.version() != version) {
            throw new IllegalStateException("one of the variables needed for gradient computation has been modified by an"
                    + " inplace operation: [" + tensor.dtype + " " + Shapes.format(tensor.shape) + "]"
                    + (outputOf >= 0 ? ", which is output 0 of " + node.name() + ","
                            : producer != null ? ", which is output 0 of " + producer.name() + "," : "")
                    + " is at version " + tensor.version() + "; expected version " + version + " instead. Hint: the"
                    + " backtrace further above (enable it with Ember.detectAnomaly()) shows the operation that failed"
                    + " to compute its gradient.");
        }
        return tensor;
    }
}

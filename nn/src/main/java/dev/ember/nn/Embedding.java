package dev.ember.nn;

import dev.ember.tensor.Generator;
import dev.ember.tensor.Tensor;

/**
 * A lookup table of {@code numEmbeddings} vectors of size {@code embeddingDim}, as
 * {@code nn.Embedding}: integer indices of any shape give indices.shape + [embeddingDim].
 * The weight starts from N(0, 1).
 */
public class Embedding extends Module {
    private final long numEmbeddings;
    private final long embeddingDim;

    public Embedding(long numEmbeddings, long embeddingDim) {
        this(numEmbeddings, embeddingDim, Generator.defaultGenerator());
    }

    /** @param generator the source of the initial values */
    public Embedding(long numEmbeddings, long embeddingDim, Generator generator) {
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        registerParameter("weight", Tensor.empty(numEmbeddings, embeddingDim));
        resetParameters(generator);
    }

    public void resetParameters(Generator generator) { Init.normal_(weight(), 0, 1, generator); }

    public Tensor weight() { return parameter("weight"); }

    @Override
    public Tensor forward(Tensor indices) { return Functional.embedding(indices, weight()); }

    @Override
    protected String extraRepr() { return numEmbeddings + ", " + embeddingDim; }
}

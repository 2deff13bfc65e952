/**
 * Data loading: the {@link dev.ember.nn.data.Dataset} interface and the tensor-backed
 * {@link dev.ember.nn.data.TensorDataset}; the {@link dev.ember.nn.data.DataLoader}, which
 * batches, shuffles reproducibly and prefetches on background threads; a reader of (gzip'd) IDX
 * files, {@link dev.ember.nn.data.Idx}; {@link dev.ember.nn.data.FashionMnist}, from the installed
 * full set or the subset bundled with the examples; and {@link dev.ember.nn.data.Normalize}.
 */
package dev.ember.nn.data;

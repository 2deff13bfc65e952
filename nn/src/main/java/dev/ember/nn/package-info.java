/**
 * Neural-network building blocks with PyTorch's semantics: {@link dev.ember.nn.Module} (named
 * parameters, buffers and children; train/eval; stateDict and loadStateDict; PyTorch's repr),
 * the layers ({@link dev.ember.nn.Linear}, {@link dev.ember.nn.Conv2d}, pooling, batch and
 * layer norm, {@link dev.ember.nn.Dropout}, {@link dev.ember.nn.Embedding},
 * {@link dev.ember.nn.Sequential}, activations), the losses, {@link dev.ember.nn.Functional}
 * for the stateless forms and {@link dev.ember.nn.Init} for initialisation.
 *
 * <p>Deliberate differences from PyTorch, where Java or Ember's memory model asks for them:
 * a parameter is an ordinary leaf tensor made by {@link dev.ember.nn.Parameter#of} rather than a
 * subclass; a module owns (and {@code close()} frees) its parameters and buffers;
 * {@code Module.to(DType)} replaces them with converted tensors rather than changing them in
 * place; and a leaf layer's shape errors are prefixed with the layer's repr, naming it.
 */
package dev.ember.nn;

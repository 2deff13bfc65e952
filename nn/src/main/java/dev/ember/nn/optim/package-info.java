/**
 * Optimizers, learning-rate schedulers and gradient clipping with torch.optim's semantics and
 * numbers: {@link dev.ember.nn.optim.SGD}, {@link dev.ember.nn.optim.Adam},
 * {@link dev.ember.nn.optim.AdamW}, {@link dev.ember.nn.optim.StepLR},
 * {@link dev.ember.nn.optim.CosineAnnealingLR} and {@link dev.ember.nn.optim.GradClip}.
 *
 * <pre>{@code
 * List<Tensor> params = List.of(weight, bias);              // leaves with requiresGrad_()
 * try (var opt = new SGD(params, SGD.options(0.05).momentum(0.9))) {
 *     var schedule = new StepLR(opt, 10, 0.5);
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         for (var batch : batches) {
 *             try (var s = Ember.scope()) {
 *                 opt.zeroGrad();
 *                 lossOf(batch).backward();
 *                 GradClip.clipGradNorm(params, 1.0);
 *                 opt.step();
 *             }
 *         }
 *         schedule.step();
 *     }
 * }
 * }</pre>
 *
 * <h2>Options</h2>
 * Each optimizer takes its options through a small builder ({@code SGD.options(lr)},
 * {@code Adam.options()}, {@code AdamW.options()}) and keeps them per parameter group under
 * PyTorch's names, so code and checkpoints read alike in both: "lr", "momentum", "dampening",
 * "weight_decay", "nesterov", "maximize" (SGD); "lr", "betas", "eps", "weight_decay", "amsgrad",
 * "maximize" (Adam, AdamW). Schedulers add "initial_lr". Options are checked with PyTorch's
 * messages ("Invalid learning rate: -1.0") when a group is added or loaded.
 *
 * <h2>Memory</h2>
 * A step updates parameters in place with grad mode off; each parameter's update runs in its own
 * {@link dev.ember.tensor.Scope}, so its temporaries are freed before the next one. State
 * buffers are made on a parameter's first step, escape every scope and are freed by
 * {@code close()}. From the second step on, a step allocates nothing that outlives it.
 *
 * <h2>State dict format</h2>
 * {@link dev.ember.nn.optim.Optimizer#stateDict()} flattens PyTorch's
 * {@code {"state": {...}, "param_groups": [...]}} into tensors, so it can be written to a
 * safetensors file (next to a model's, or in its own) and read back by Python tools. Parameters
 * are numbered 0, 1, ... across the groups in order, as PyTorch numbers them.
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>tensor</th></tr>
 *   <tr><td>{@code state.<i>.step}</td><td>0-d float64: the step count of parameter i (Adam, AdamW)</td></tr>
 *   <tr><td>{@code state.<i>.<buffer>}</td><td>the buffer, shaped as parameter i and in its dtype:
 *       {@code momentum_buffer} (SGD with momentum), {@code exp_avg}, {@code exp_avg_sq},
 *       {@code max_exp_avg_sq} (Adam/AdamW; the last with amsgrad)</td></tr>
 *   <tr><td>{@code param_groups.<g>.params}</td><td>1-D int64: the numbers of group g's parameters</td></tr>
 *   <tr><td>{@code param_groups.<g>.<option>}</td><td>0-d float64 for a number ({@code lr},
 *       {@code weight_decay}, ...), 0-d bool for a flag ({@code nesterov}, {@code amsgrad}, ...),
 *       1-D float64 for a tuple ({@code betas})</td></tr>
 * </table>
 * Parameters that never had a step have no {@code state} keys. Loading maps saved parameters to
 * the optimizer's by group and position, as PyTorch does, converts buffers to the parameters'
 * dtypes, and restores the options (including "lr", so a scheduler's progress survives).
 * Schedulers have their own small {@link dev.ember.nn.optim.LRScheduler#stateDict()}.
 */
package dev.ember.nn.optim;

"""Writes reference.json, the numbers the dev.ember.nn.optim tests compare Ember's optimizers,
learning-rate schedulers and gradient clipping against.

Run from this folder with PyTorch installed (it is not a dependency of the build; the file it
wrote is committed):

    python3 make_reference.py

The problem is small and fixed: two parameters of shapes [3, 4] and [4] with fixed initial values,
and a fixed sequence of five gradients per parameter. The file holds those inputs too, so the Java
tests feed Ember exactly the numbers PyTorch was fed. Every run records the parameters after each
step. Runs are float64 (compared tightly) unless "dtype" says float32; a float32 run starts from
the float64 inputs rounded to float32, which Java's (float) cast reproduces exactly.

Layout of reference.json:
    torch            the version that wrote it
    shapes           the parameters' shapes
    initial          [param][flat values]
    grads            [step][param][flat values]
    optimizers       runs: name, optimizer (SGD/Adam/AdamW), dtype, options (PyTorch's keyword
                     names), groups (optional: per-group overrides, one per parameter), skip
                     (optional: [step, param] pairs whose gradient is None at that step),
                     scheduler (optional: stepped after each optimizer step), steps
                     [step][param][flat values]
    schedulers       lr sequences: name, kind, group_lrs, the scheduler's arguments, lrs
                     [get_last_lr() after construction, then after each of 8 steps]
    clip             clip_grad_norm_ cases: name, dtype, scale (the step-0 gradients are multiplied
                     by it first), max_norm, norm_type ("inf" for infinity), total_norm, grads
"""
import json
import math
import warnings

import torch

warnings.filterwarnings("ignore")
torch.manual_seed(0)

SHAPES = [[3, 4], [4]]
STEPS = 5
# Gradient magnitudes that rise and fall, so AMSGrad's running maximum differs from the average.
SCALES = [1.0, 0.2, 2.0, 0.1, 0.5]

INITIAL = [torch.randn(s, dtype=torch.float64) for s in SHAPES]
GRADS = [[torch.randn(s, dtype=torch.float64) * SCALES[k] for s in SHAPES] for k in range(STEPS)]


def flat(t):
    return [float(v) for v in t.detach().double().flatten().tolist()]


def make_params(dtype):
    return [p.clone().to(dtype).requires_grad_() for p in INITIAL]


def make_optimizer(kind, params, options, groups):
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}[kind]
    kwargs = dict(options)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    if groups is None:
        return cls(params, **kwargs)
    return cls([dict(params=[p], **g) for p, g in zip(params, groups)], **kwargs)


def make_scheduler(spec, optimizer):
    if spec["kind"] == "StepLR":
        return torch.optim.lr_scheduler.StepLR(optimizer, spec["step_size"], spec["gamma"])
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, spec["T_max"], spec["eta_min"])


def run_optimizer(name, kind, options, dtype="float64", groups=None, skip=(), scheduler=None):
    params = make_params(getattr(torch, dtype))
    opt = make_optimizer(kind, params, options, groups)
    sched = make_scheduler(scheduler, opt) if scheduler else None
    steps = []
    for k in range(STEPS):
        for i, p in enumerate(params):
            p.grad = None if [k, i] in skip else GRADS[k][i].to(p.dtype).clone()
        opt.step()
        if sched:
            sched.step()
        steps.append([flat(p) for p in params])
    run = {"name": name, "optimizer": kind, "dtype": dtype, "options": options, "steps": steps}
    if groups is not None:
        run["groups"] = groups
    if skip:
        run["skip"] = [list(s) for s in skip]
    if scheduler:
        run["scheduler"] = scheduler
    return run


def run_scheduler(name, spec, group_lrs, steps=8):
    groups = [dict(params=[torch.zeros(1, requires_grad=True)], lr=lr) for lr in group_lrs]
    opt = torch.optim.SGD(groups, lr=group_lrs[0])
    sched = make_scheduler(spec, opt)
    lrs = [list(sched.get_last_lr())]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
    return dict(name=name, group_lrs=group_lrs, lrs=lrs, **spec)


def run_clip(name, max_norm, norm_type, scale, dtype="float64"):
    params = make_params(getattr(torch, dtype))
    for p, g in zip(params, GRADS[0]):
        p.grad = (g * scale).to(p.dtype)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    return {"name": name, "dtype": dtype, "scale": scale, "max_norm": max_norm,
            "norm_type": "inf" if math.isinf(norm_type) else norm_type,
            "total_norm": float(total), "grads": [flat(p.grad) for p in params]}


optimizers = [
    run_optimizer("sgd_plain", "SGD", {"lr": 0.1}),
    run_optimizer("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}),
    run_optimizer("sgd_dampening", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1}),
    run_optimizer("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    run_optimizer("sgd_weight_decay", "SGD", {"lr": 0.1, "weight_decay": 1e-2}),
    run_optimizer("sgd_maximize", "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-2, "maximize": True}),
    run_optimizer("sgd_groups", "SGD", {"lr": 0.1, "momentum": 0.9},
                  groups=[{}, {"lr": 0.01, "momentum": 0.5, "nesterov": True}]),
    run_optimizer("sgd_skip", "SGD", {"lr": 0.1, "momentum": 0.9}, skip=[[1, 1], [2, 0]]),
    run_optimizer("sgd_steplr", "SGD", {"lr": 0.1, "momentum": 0.9},
                  scheduler={"kind": "StepLR", "step_size": 2, "gamma": 0.5}),
    run_optimizer("adam_default", "Adam", {}),
    run_optimizer("adam_amsgrad", "Adam", {"lr": 0.01, "betas": [0.8, 0.5], "amsgrad": True}),
    run_optimizer("adam_weight_decay", "Adam", {"lr": 0.01, "weight_decay": 1e-2}),
    run_optimizer("adam_maximize", "Adam", {"lr": 0.01, "eps": 1e-3, "maximize": True}),
    run_optimizer("adam_skip", "Adam", {"lr": 0.01}, skip=[[2, 1]]),
    run_optimizer("adamw_default", "AdamW", {}),
    run_optimizer("adamw_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "betas": [0.8, 0.5]}),
    run_optimizer("adamw_cosine", "AdamW", {"lr": 0.01},
                  scheduler={"kind": "CosineAnnealingLR", "T_max": 4, "eta_min": 1e-3}),
    run_optimizer("sgd_nesterov_float32", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, dtype="float32"),
    run_optimizer("adam_float32", "Adam", {"lr": 0.01, "weight_decay": 1e-2}, dtype="float32"),
    run_optimizer("adamw_float32", "AdamW", {"lr": 0.01}, dtype="float32"),
]

schedulers = [
    run_scheduler("steplr", {"kind": "StepLR", "step_size": 2, "gamma": 0.5}, [0.1, 0.05]),
    run_scheduler("cosine", {"kind": "CosineAnnealingLR", "T_max": 4, "eta_min": 1e-3}, [0.1, 0.05]),
    run_scheduler("cosine_long", {"kind": "CosineAnnealingLR", "T_max": 3, "eta_min": 0.0}, [1.0], steps=14),
]

clip = [
    run_clip("clip_l2", 1.0, 2.0, 1.0),
    run_clip("clip_inf", 0.5, math.inf, 1.0),
    run_clip("clip_l1_unclipped", 100.0, 1.0, 1.0),
    run_clip("clip_l3", 0.1, 3.0, 10.0),
    run_clip("clip_l2_float32", 1.0, 2.0, 1.0, dtype="float32"),
]

reference = {
    "torch": torch.__version__,
    "shapes": SHAPES,
    "initial": [flat(p) for p in INITIAL],
    "grads": [[flat(g) for g in step] for step in GRADS],
    "optimizers": optimizers,
    "schedulers": schedulers,
    "clip": clip,
}

with open("reference.json", "w", encoding="utf-8") as f:
    json.dump(reference, f, indent=1, allow_nan=False)
    f.write("\n")

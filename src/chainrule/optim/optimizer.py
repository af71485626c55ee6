"""The Optimizer base class (``torch.optim.Optimizer``): parameter groups, per-parameter state,
``zero_grad``, ``step`` and ``state_dict`` / ``load_state_dict`` in torch's format.

Every optimizer implements one update rule θ_{t+1} = θ_t − Δ_t(g_t, state_t). Subclasses write
that rule on the raw NumPy arrays (``p._data``, ``p.grad._data``) in place: an optimizer step
is plain arithmetic, so it records no graph and allocates as few temporaries as it can.
"""
from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict

import numpy as np

from .._graph import HookHandle
from .._modes import TRACE, enable_grad
from ..profiler import record_function
from ..backends import onednn
from ..tensor import Tensor


class _RequiredParameter:
    """Marks a default that every parameter group must set (torch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

# Options torch's optimizers take that select a kernel (CUDA graphs, multi-tensor or fused
# kernels, a differentiable step). chainrule has one NumPy kernel; it accepts the options so
# torch code and torch state dicts carry over, and refuses only the values it cannot honour.
_KERNEL_OPTIONS = ("foreach", "fused", "capturable", "differentiable")


def _check_adam_args(lr, betas, eps, weight_decay):
    """torch's checks of the Adam family's hyperparameters (ValueError, torch's words)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _adam_hyper(group):
    """(lr, eps, β₁, β₂, weight_decay) of a parameter group, as floats."""
    beta1, beta2 = (float(b) for b in group["betas"])
    return float(group["lr"]), float(group["eps"]), beta1, beta2, float(group["weight_decay"])


def _check_kernel_options(name, **options):
    """torch's implementation choices: ``foreach`` and ``fused`` pick among torch's kernels
    for the same update, so they are accepted (chainrule has one NumPy kernel; the numbers are
    the same); ``capturable`` (CUDA graphs) and ``differentiable`` (a step with a graph) are
    refused."""
    for key, value in options.items():
        if value and key not in ("foreach", "fused"):
            raise ValueError(f"{name}: {key}={value!r} is not supported (chainrule has a single "
                             f"NumPy kernel); leave {key} at its default")


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors (leaves with ``requires_grad``), of ``(name, Tensor)``
            pairs, or of dicts ``{"params": [...], "lr": ..., ...}`` — one dict per parameter group
            with options that override ``defaults`` for that group.
        defaults: the default value of each option (``lr``, ``momentum``, ...).

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (list of Tensors) and every option.
        state: dict mapping a parameter Tensor to its state (momentum buffers, step counts, ...).
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._step_pre_hooks: OrderedDict = OrderedDict()
        self._step_post_hooks: OrderedDict = OrderedDict()
        self._state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._state_dict_post_hooks: OrderedDict = OrderedDict()
        self._load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._hook_id = 0
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(dict(group))

    def __init_subclass__(cls, **kwargs):
        # Wrap each subclass's step once so hooks run and schedulers can tell that
        # optimizer.step() was called (torch warns when scheduler.step() comes first).
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_chainrule_wrapped", False):
            @functools.wraps(step)
            def wrapper(self, *args, **kwargs):
                if TRACE.recorder is not None:   # a graph capture replays the step as one call
                    return TRACE.recorder.call(wrapper, self, *args, **kwargs)
                if self.__dict__.get("_in_step"):  # a subclass's step calling super().step()
                    return step(self, *args, **kwargs)
                for hook in list(self._step_pre_hooks.values()):
                    hook(self, (self, *args), kwargs)   # torch's: the step's own args, self first
                self._in_step = True
                try:   # (a range in a profile, under torch's name for it)
                    with record_function(f"Optimizer.step#{type(self).__name__}.step"):
                        out = step(self, *args, **kwargs)
                finally:
                    self._in_step = False
                self._opt_called = True
                for hook in list(self._step_post_hooks.values()):
                    hook(self, (self, *args), kwargs)
                return out
            wrapper._chainrule_wrapped = True
            cls.step = wrapper

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers while
        fine-tuning); options it does not set take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. "
                                 "Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("add_param_group: a parameter group contains the same parameter "
                             "twice")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default; the next backward
        allocates fresh ones and a step skips parameters that received none) or to zeros in place."""
        if TRACE.recorder is not None:
            return TRACE.recorder.call(Optimizer.zero_grad, self, set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g._requires_grad = False
                    g._data.fill(0)

    def step(self, closure=None):
        """Perform one update of every parameter that has a gradient. ``closure``, when given,
        re-evaluates the model and returns the loss (it runs with grad enabled)."""
        # abstract: each optimizer defines its update rule
        raise NotImplementedError

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _each_gradient(self, group, init):
        """(p, x, g, state, step) for each parameter of ``group`` that has a gradient: x its
        array, g its gradient (negated under ``maximize``), state its state — filled by
        ``init(state, x)`` at the first step — and step the count including this one."""
        name = type(self).__name__
        for p in group["params"]:
            if p.grad is None:
                continue
            x = p._data
            g = self._grad_array(p, name)
            state = self.state[p]
            if not state:
                state["step"] = _new_step()
                init(state, x)
            step = _step_count(state)
            x, g = _vec(x), _vec(g)
            yield p, x, (np.negative(g) if group["maximize"] else g), state, step

    @staticmethod
    def _grad_array(p: Tensor, name: str) -> np.ndarray:
        """The gradient of ``p`` as an array, checked against the parameter's shape and dtype."""
        g = p.grad._data
        if g.shape != p._data.shape or g.dtype != p._data.dtype:
            raise RuntimeError(f"{name}: gradient of shape {g.shape} and dtype {g.dtype} does not "
                               f"match its parameter of shape {p._data.shape} and dtype "
                               f"{p._data.dtype}")
        return g

    # ------------------------------------------------------------------ hooks
    def _add_hook(self, store: OrderedDict, hook, prepend=False):
        self._hook_id += 1
        store[self._hook_id] = hook
        if prepend:
            store.move_to_end(self._hook_id, last=False)
        return HookHandle(store, self._hook_id)

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before every ``step`` (``args`` the step's
        own, the optimizer first); returns a handle."""
        return self._add_hook(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``; returns a handle."""
        return self._add_hook(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer) -> None`` runs before :meth:`state_dict` builds the dict."""
        return self._add_hook(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None or a dict`` runs on the built dict; a dict it
        returns is the result."""
        return self._add_hook(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None or a dict`` runs before
        :meth:`load_state_dict` reads the dict (a shallow copy); a dict it returns is loaded."""
        return self._add_hook(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer) -> None`` runs after :meth:`load_state_dict`."""
        return self._add_hook(self._load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [...]}``.

        As in torch, parameters are replaced by their index in the order they appear across the
        groups, so the dict holds no parameter and can be loaded into a fresh optimizer built
        over the same parameters. State tensors are the live buffers (copy before mutating)."""
        for hook in self.__dict__.get("_state_dict_pre_hooks", {}).values():
            hook(self)
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            key = mapping[id(p)] if isinstance(p, Tensor) else p
            state[key] = s
        out = {"state": state, "param_groups": groups}
        for hook in self.__dict__.get("_state_dict_post_hooks", {}).values():
            result = hook(self, out)
            out = out if result is None else result
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a dict from :meth:`state_dict` (chainrule's or torch's: any array-like state
        value is copied into a chainrule Tensor of the parameter's dtype, except ``step``)."""
        state_dict = dict(state_dict)   # hooks may replace entries, not the caller's dict's
        for hook in self.__dict__.get("_load_state_dict_pre_hooks", {}).values():
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, sg in zip(groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 "the size of optimizer's group")
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for saved_id, p in zip(sg["params"], g["params"]):
                id_map[int(saved_id)] = p
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            key = int(k) if isinstance(k, (int, np.integer, str)) and str(k).isdigit() else k
            if key in id_map:
                p = id_map[key]
                state[p] = {name: _cast_state(p, name, value) for name, value in v.items()}
            else:
                state[k] = copy.deepcopy(v)
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            sg["params"] = g["params"]
            if "param_names" in g and "param_names" not in sg:
                sg["param_names"] = g["param_names"]
            if isinstance(sg.get("betas"), list):
                sg["betas"] = tuple(sg["betas"])
            new_groups.append(sg)
        self.state = state
        self.param_groups = new_groups
        for hook in self.__dict__.get("_load_state_dict_post_hooks", {}).values():
            hook(self)


def _cast_state(p: Tensor, key, value):
    """Copy a saved state value into a chainrule Tensor (params' dtype for float state)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, None, v) for v in value)
    if isinstance(value, Tensor):
        value = value._data
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    arr = np.array(value)  # a copy
    if key != "step" and arr.dtype.kind == "f" and p._data.dtype.kind == "f":
        arr = arr.astype(p._data.dtype, copy=False)
    return Tensor._make(arr)


def _vec(a: np.ndarray) -> np.ndarray:
    """``a`` to update in place: a 0-d array as a 1-element view of it. The update rules write
    their results with ``out=``, and NumPy's ufuncs return a scalar, not an array, for 0-d
    operands (Adam on a learnable scalar, ``nn.Parameter(torch.tensor(1.0))``, raised
    TypeError); the view shares the memory, so the update lands in the 0-d parameter."""
    return a.reshape(1) if a.ndim == 0 else a


def _bump(p: Tensor) -> None:
    """Record an in-place update of ``p`` (autograd checks saved tensors' versions)."""
    p._version_box[0] += 1


def _step_count(state: dict) -> float:
    """Increment the 0-d float32 ``state['step']`` tensor (torch keeps the count as a tensor)
    and return the new count as a Python float."""
    step = state["step"]._data
    step += 1
    return float(step)


def _new_step() -> Tensor:
    return Tensor._make(np.zeros((), np.float32))


# from this size oneDNN's one pass beats NumPy's operations one after the other (2 threads:
# 200,704 floats, b ← μ·b + g, 33 → 21 µs; at 2¹⁶ NumPy's is 3 µs faster; at 1 thread about
# even for one fused operation, ahead for more)
CHAIN_MIN = 1 << 17
_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


def _chain(op, a: np.ndarray, b, steps=(), out: np.ndarray | None = None) -> np.ndarray:
    """(…((a op b) op₁ c₁) op₂ c₂ …) — ops 'add', 'sub', 'mul', 'div', operands arrays of a's
    shape or Python floats —, new or written into ``out`` (which may be any operand), each
    step rounded before the next on either path, so the same bits: one oneDNN pass for large
    float32 arrays on chainrule's threads (``onednn.chain``), else NumPy's ufuncs in turn. An
    optimizer's update, e.g. b ← μ·b + g as ``_chain("mul", b, μ, [("add", g)], out=b)``.
    (It runs a few times per parameter per step: the small arrays' path is kept short.)"""
    if a.ndim == 0:   # ufuncs give scalars for 0-d operands: run on 1-element views
        views = {}    # one view per array, so that `c is out` still holds below

        def one(c):
            if not isinstance(c, (np.ndarray, np.generic)):
                return c
            return views.setdefault(id(c), _vec(np.asarray(c)))

        return _chain(op, one(a), one(b), [(o, one(c)) for o, c in steps],
                      None if out is None else one(out)).reshape(())
    if a.size >= CHAIN_MIN and onednn.elementwise_supported(
            a, *[c for c in (b, *[c for _, c in steps], out) if isinstance(c, np.ndarray)],
            least=CHAIN_MIN):
        return onednn.chain(op, a, b, steps, out)
    # NumPy: the first result into out unless a step still reads out (then a new array), the
    # steps in place into it, the last into out (a Python float takes the array's dtype)
    ufuncs, first = _UFUNCS, out
    for _, c in steps:
        if c is out:
            first = None
    r = ufuncs[op](a, b, out=first)
    if steps:
        for o, c in steps[:-1]:
            ufuncs[o](r, c, out=r)
        o, c = steps[-1]
        r = ufuncs[o](r, c, out=r if out is None else out)
    return r


def _lerp_(a: np.ndarray, b: np.ndarray, w: float) -> None:
    """a ← a + w (b − a), in place, with torch's two-sided formula (exact at w = 1): for
    w < 0.5 a + w·(b − a), else b − (1 − w)·(b − a) (as b + (−1)·…, the same value)."""
    if w < 0.5:
        _chain("sub", b, a, [("mul", w), ("add", a)], out=a)
    else:
        _chain("sub", b, a, [("mul", 1.0 - w), ("mul", -1.0), ("add", b)], out=a)

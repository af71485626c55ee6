"""Weight normalization, torch's older hook-based form (``torch.nn.utils.weight_norm``):
w = g · v/‖v‖, recomputed before every forward from the parameters ``<name>_g`` and
``<name>_v``. Deprecated in torch in favour of ``nn.utils.parametrizations.weight_norm``
(kept for the scripts and checkpoints that use it; it warns as torch does).
"""
from __future__ import annotations

import warnings

from ..parameter import Parameter, UninitializedParameter

__all__ = ["weight_norm", "remove_weight_norm", "norm_except_dim"]


def norm_except_dim(v, pow=2, dim=0):
    """‖v‖_pow over every dim but ``dim``, kept as size-1 dims (shape (n, 1, …, 1) for dim 0);
    ``dim = -1``: the norm of the whole tensor (a 0-d tensor)."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return v.abs() if not others else v.norm(pow, dim=others, keepdim=True)


def _weight_norm(v, g, dim=0):
    """w = v · g/‖v‖ (norm over every dim but ``dim``): torch._weight_norm."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes ``<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                            self.dim)

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "weight normalization")
        if not isinstance(weight, Parameter):
            raise ValueError(f"weight_norm: '{name}' must be a parameter of {module}")
        del module._parameters[name]
        g = norm_except_dim(weight, 2, fn.dim).detach()
        module.register_parameter(name + "_g", Parameter(g))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """w = g · v/‖v‖ on ``module.<name>`` through a forward pre-hook (torch's older form;
    deprecated there in favour of ``nn.utils.parametrizations.weight_norm``). ``dim``: the
    dim the norm leaves out (``None``: the whole tensor). Returns ``module``."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")

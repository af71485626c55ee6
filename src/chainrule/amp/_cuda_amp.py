"""``chainrule.cuda.amp`` (``torch.cuda.amp``): torch's deprecated CUDA spellings of
:class:`chainrule.amp.autocast` and :class:`chainrule.amp.GradScaler`.

Each warns with torch's FutureWarning and then behaves as torch's CPU-only build: CUDA is not
available, so an enabled instance warns and disables itself.
"""
from __future__ import annotations

import warnings

from .. import _dtype
from . import autocast_mode, grad_scaler

__all__ = ["GradScaler", "autocast"]


class autocast(autocast_mode.autocast):
    r"""See :class:`chainrule.autocast`.

    ``chainrule.cuda.amp.autocast(args...)`` is deprecated (FutureWarning), as in torch. Please
    use ``chainrule.amp.autocast("cuda", args...)`` instead. There is no CUDA, so with
    ``enabled=True`` it also warns and disables autocast.

    Args:
        enabled (bool, optional): Whether autocasting should be enabled in the region.
            Default: ``True``
        dtype (chainrule.dtype, optional): Data type for ops run in autocast.
            Default: ``chainrule.float16``
        cache_enabled (bool, optional): Whether the weight cache inside autocast should be
            enabled. Default: ``True``
    """

    def __init__(self, enabled: bool = True, dtype=_dtype.float16, cache_enabled: bool = True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. "
                      "Please use `torch.amp.autocast('cuda', args...)` instead.",
                      FutureWarning, stacklevel=2)
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    r"""See :class:`chainrule.amp.GradScaler`.

    ``chainrule.cuda.amp.GradScaler(args...)`` is deprecated (FutureWarning), as in torch.
    Please use ``chainrule.amp.GradScaler("cuda", args...)`` instead. There is no CUDA, so with
    ``enabled=True`` it also warns and disables itself (every method is then a pass-through);
    ``chainrule.amp.GradScaler("cpu")`` is the working scaler.

    Args:
        init_scale (float, optional): Initial scale factor. Default: ``2.**16``
        growth_factor (float, optional): Factor the scale grows by. Default: ``2.0``
        backoff_factor (float, optional): Factor the scale backs off by. Default: ``0.5``
        growth_interval (int, optional): Consecutive clean steps between growths.
            Default: ``2000``
        enabled (bool, optional): If ``False``, disables gradient scaling. Default: ``True``
    """

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. "
                      "Please use `torch.amp.GradScaler('cuda', args...)` instead.",
                      FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)

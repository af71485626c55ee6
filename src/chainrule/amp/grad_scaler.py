"""``chainrule.amp.GradScaler`` (``torch.amp.GradScaler``): dynamic loss scaling, torch's algorithm.

The loss is multiplied by a scale S before ``backward()``, so small float16 gradients do not
underflow; before the optimizer step the gradients are divided by S. A step whose gradients
contain an inf or a NaN (S was too large) is skipped and S is multiplied by ``backoff_factor``;
after ``growth_interval`` consecutive good steps S is multiplied by ``growth_factor``.

The arithmetic is torch's: S is a float32 scalar, the gradients are multiplied by the float32
reciprocal of S (taken in float64), and the update rule is ``_amp_update_scale_``'s.
"""
from __future__ import annotations

import warnings
from collections import abc, defaultdict
from enum import Enum
from typing import Any

import numpy as np

from .. import _dtype
from ..tensor import Tensor

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    """Where an optimizer is in the current iteration: gradients not yet unscaled, unscaled by
    :meth:`GradScaler.unscale_`, or stepped by :meth:`GradScaler.step`."""
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _scalar(value, dtype) -> Tensor:
    """A 0-dim tensor (torch keeps the scale and the growth tracker as tensors)."""
    return Tensor(np.array(value), dtype=dtype)


class GradScaler:
    r"""An instance ``scaler`` of :class:`GradScaler` helps perform the steps of gradient scaling.

    * ``scaler.scale(loss)`` multiplies a given loss by ``scaler``'s current scale factor.
    * ``scaler.step(optimizer)`` safely unscales gradients and calls ``optimizer.step()``.
    * ``scaler.update()`` updates ``scaler``'s scale factor.

    Example::

        >>> scaler = chainrule.amp.GradScaler("cpu")
        >>> for input, target in data:
        ...     optimizer.zero_grad()
        ...     with chainrule.autocast(device_type="cpu"):
        ...         loss = loss_fn(model(input), target)
        ...     scaler.scale(loss).backward()   # scaled gradients
        ...     scaler.step(optimizer)          # unscales; skips the step on inf/NaN gradients
        ...     scaler.update()                 # backs off or grows the scale

    The scale factor is estimated dynamically: if inf/NaN gradients are found,
    ``scaler.step(optimizer)`` skips the underlying ``optimizer.step()`` (so the parameters stay
    uncorrupted) and :meth:`update` multiplies the scale by ``backoff_factor``; if
    ``growth_interval`` unskipped iterations occur consecutively, :meth:`update` multiplies it by
    ``growth_factor``.

    .. note::
        chainrule runs on the CPU only. As in torch's CPU-only build, ``device='cuda'`` (the
        default) with ``enabled=True`` warns that CUDA is not available and disables the scaler;
        pass ``device='cpu'`` for a working scaler.

    Args:
        device (str, optional): Device type to use, ``'cuda'`` or ``'cpu'``. Default: ``'cuda'``
        init_scale (float, optional): Initial scale factor. Default: ``2.**16``
        growth_factor (float, optional): Factor by which the scale is multiplied during
            :meth:`update` if no inf/NaN gradients occur for ``growth_interval`` consecutive
            iterations. Default: ``2.0``
        backoff_factor (float, optional): Factor by which the scale is multiplied during
            :meth:`update` if inf/NaN gradients occur in an iteration. Default: ``0.5``
        growth_interval (int, optional): Number of consecutive iterations without inf/NaN
            gradients that must occur for the scale to be multiplied by ``growth_factor``.
            Default: ``2000``
        enabled (bool, optional): If ``False``, disables gradient scaling: :meth:`step` simply
            invokes the underlying ``optimizer.step()``, and other methods become no-ops.
            Default: ``True``
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if self._device == "cuda" and enabled:
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale: Tensor | None = None           # created by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: Tensor | None = None
            self._per_optimizer_states: dict[int, dict[str, Any]] = defaultdict(
                _refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname: str) -> tuple[Tensor, Tensor]:
        fix = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier "
               "in the iteration.")
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self) -> None:
        self._scale = _scalar(self._init_scale, _dtype.float32)
        self._growth_tracker = _scalar(self._init_growth_tracker, _dtype.int32)

    def scale(self, outputs):
        """Multiplies ('scales') a tensor or list of tensors by the scale factor.

        Returns scaled outputs (nested lists and tuples keep their type; other iterables come
        back as lazy iterators, as in torch). If this instance of :class:`GradScaler` is not
        enabled, outputs are returned unmodified.

        Args:
            outputs (Tensor or iterable of Tensors): Outputs to scale.
        """
        if not self._enabled:
            return outputs

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker()
                return val * self._scale
            if isinstance(val, abc.Iterable):
                iterable = map(apply_scale, val)
                return type(val)(iterable) if isinstance(val, (list, tuple)) else iterable
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale: np.float32, allow_fp16: bool) -> Tensor:
        """Multiply every gradient of ``optimizer``'s parameters by ``inv_scale`` in place and
        return a float32 scalar that is 1.0 if any of them held an inf or a NaN, else 0.0."""
        found_inf = False
        for group in optimizer.param_groups:
            for param in group["params"]:
                if not isinstance(param, Tensor):
                    raise AssertionError(
                        f"expected param to be torch.Tensor, got {type(param).__name__}")
                if param.grad is None:
                    continue
                if not allow_fp16 and param.grad.dtype == _dtype.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                grad = param.grad._data
                if not np.isfinite(grad).all():
                    found_inf = True
                if inv_scale != 1.0:
                    if grad.flags.writeable:
                        np.multiply(grad, inv_scale, out=grad, casting="unsafe")
                    else:   # a gradient that is a read-only view (a broadcast): a new array
                        param.grad._data = (grad * inv_scale).astype(grad.dtype, copy=False)
                    param.grad._version_box[0] += 1
        return _scalar(1.0 if found_inf else 0.0, _dtype.float32)

    def unscale_(self, optimizer) -> None:
        """Divides ("unscales") the optimizer's gradient tensors by the scale factor.

        :meth:`unscale_` is optional, serving cases where you need to modify or inspect gradients
        between the backward pass(es) and :meth:`step` (clipping them, for instance). If it is not
        called explicitly, gradients are unscaled automatically during :meth:`step`::

            >>> scaler.scale(loss).backward()
            >>> scaler.unscale_(optimizer)
            >>> chainrule.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            >>> scaler.step(optimizer)
            >>> scaler.update()

        Args:
            optimizer (chainrule.optim.Optimizer): Optimizer that owns the gradients to be
                unscaled.

        .. warning::
            :meth:`unscale_` should only be called once per optimizer per :meth:`step` call, after
            all gradients for that optimizer's parameters have been accumulated. Calling it twice
            for a given optimizer between each :meth:`step` raises a RuntimeError. float16
            gradients raise ValueError (the scaled model should be kept in float32).
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update().")
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, rounded to float32, as torch does
        inv_scale = np.float32(1.0 / np.float64(self._scale._data))
        found_inf = self._unscale_grads_(optimizer, inv_scale, allow_fp16=False)
        optimizer_state["found_inf_per_device"] = {self._scale.device: found_inf}
        optimizer_state["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        if not sum(v.item() for v in optimizer_state["found_inf_per_device"].values()):
            return optimizer.step(*args, **kwargs)
        return None

    def step(self, optimizer, *args, **kwargs):
        """Invoke ``unscale_(optimizer)`` followed by parameter update, if gradients are not
        infs/NaN.

        :meth:`step` carries out the following two operations:

        1. Internally invokes ``unscale_(optimizer)`` (unless :meth:`unscale_` was explicitly
           called for ``optimizer`` earlier in the iteration). As part of the :meth:`unscale_`,
           gradients are checked for infs/NaNs.
        2. If no inf/NaN gradients are found, invokes ``optimizer.step()`` using the unscaled
           gradients. Otherwise, ``optimizer.step()`` is skipped to avoid corrupting the params.

        ``*args`` and ``**kwargs`` are forwarded to ``optimizer.step()``.

        Returns the return value of ``optimizer.step(*args, **kwargs)``, or ``None`` when the step
        was skipped.

        Args:
            optimizer (chainrule.optim.Optimizer): Optimizer that applies the gradients.
            args: Any arguments.
            kwargs: Any keyword arguments.

        .. warning::
            Closure use is not supported (a ``closure`` keyword raises RuntimeError).
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if optimizer_state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(optimizer_state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, optimizer_state, *args, **kwargs)
        optimizer_state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Update the scale factor.

        If any optimizer steps were skipped the scale is multiplied by ``backoff_factor`` to
        reduce it. If ``growth_interval`` unskipped iterations occurred consecutively, the scale
        is multiplied by ``growth_factor`` to increase it.

        Passing ``new_scale`` sets the new scale value manually (its value is copied: later
        in-place changes to a tensor passed here do not affect the scale).

        Args:
            new_scale (float or :class:`chainrule.Tensor`, optional): New scale factor, a float or
                a 1-element tensor that does not require grad. Default: ``None``

        .. warning::
            :meth:`update` should only be called at the end of the iteration, after
            ``scaler.step(optimizer)`` has been invoked for all optimizers used this iteration.
        """
        if not self._enabled:
            return
        _scale, _growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                _scale._data[...] = new_scale
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1:
                    raise AssertionError(reason)
                if new_scale.requires_grad is True:
                    raise AssertionError(reason)
                _scale._data[...] = new_scale._data.reshape(())
        else:
            found_infs = [found_inf.item()
                          for state in self._per_optimizer_states.values()
                          for found_inf in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale_(sum(found_infs) > 0)
        # clear the data collected from optimizers this iteration
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale_(self, found_inf: bool) -> None:
        """torch's ``_amp_update_scale_``: back off after an inf/NaN, grow after
        ``growth_interval`` clean steps (a growth that would overflow float32 is skipped)."""
        scale, tracker = self._scale._data, self._growth_tracker._data
        if found_inf:
            scale[...] = np.float32(float(scale) * self._backoff_factor)
            tracker[...] = 0
            return
        successful = int(tracker) + 1
        if successful == self._growth_interval:
            grown = np.float32(float(scale) * self._growth_factor)
            if np.isfinite(grown):
                scale[...] = grown
            tracker[...] = 0
        else:
            tracker[...] = successful

    def _get_scale_async(self) -> Tensor | None:
        return self._scale

    def get_scale(self) -> float:
        """Return a Python float containing the current scale, or 1.0 if scaling is disabled."""
        if self._enabled:
            return self._init_scale if self._scale is None else self._scale.item()
        return 1.0

    def get_growth_factor(self) -> float:
        r"""Return a Python float containing the scale growth factor."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        r"""Set a new scale growth factor.

        Args:
            new_factor (float): Value to use as the new scale growth factor.
        """
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        r"""Return a Python float containing the scale backoff factor."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        r"""Set a new scale backoff factor.

        Args:
            new_factor (float): Value to use as the new scale backoff factor.
        """
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        r"""Return a Python int containing the growth interval."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        r"""Set a new growth interval.

        Args:
            new_interval (int): Value to use as the new growth interval.
        """
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            if self._growth_tracker is None:
                return self._init_growth_tracker
            return self._growth_tracker.item()
        return 0

    def is_enabled(self) -> bool:
        r"""Return a bool indicating whether this instance is enabled."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        r"""Return the state of the scaler as a :class:`dict`.

        It contains five entries:

        * ``"scale"`` - a Python float containing the current scale
        * ``"growth_factor"`` - a Python float containing the current growth factor
        * ``"backoff_factor"`` - a Python float containing the current backoff factor
        * ``"growth_interval"`` - a Python int containing the current growth interval
        * ``"_growth_tracker"`` - a Python int containing the number of recent consecutive
          unskipped steps.

        If this instance is not enabled, returns an empty dict.

        .. note::
           To checkpoint the scaler's state after a particular iteration, call
           :meth:`state_dict` after :meth:`update`.
        """
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor,
                    "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""Load the scaler state. If this instance is disabled, :meth:`load_state_dict` is a
        no-op.

        Args:
           state_dict (dict): scaler state. Should be an object returned from a call to
               :meth:`state_dict` (of chainrule's GradScaler or torch's).
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale._data[...] = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker._data[...] = state_dict["_growth_tracker"]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning "
                                     "of an iteration, or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _found_inf_per_device(self, optimizer) -> dict:
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

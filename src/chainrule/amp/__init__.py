"""``chainrule.amp`` (``torch.amp``): automatic mixed precision.

:class:`autocast` runs regions "in mixed precision" — in chainrule, which has no GPU and no
bfloat16, in full precision, with a one-time warning saying so — and :class:`GradScaler` scales
the loss and unscales the gradients with torch's dynamic loss-scaling algorithm, skipping steps
whose gradients overflow. Mixed-precision training scripts written for torch run unchanged.
"""
from . import autocast_mode, grad_scaler  # noqa: F401  (torch.amp.autocast_mode, .grad_scaler)
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]

"""``chainrule.signal`` — torch.signal: window functions (:mod:`chainrule.signal.windows`)."""
from . import windows

__all__ = ["windows"]

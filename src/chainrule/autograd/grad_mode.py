"""``torch.autograd.grad_mode``'s names: the switches live in :mod:`chainrule._modes`."""
from .._modes import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]

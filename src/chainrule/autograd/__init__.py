"""Automatic differentiation: the graph engine (``backward``, ``grad``), grad-mode switches,
forward mode (``forward_ad``), custom functions (``Function``)."""
from .._backprop import backward, grad
from .._graph import Node
from .._modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import forward_ad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "forward_ad", "functional", "Node",
           "gradcheck", "gradgradcheck", "GradcheckError"]

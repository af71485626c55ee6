"""Automatic differentiation: the graph engine (``backward``, ``grad``), grad-mode switches,
forward mode (``forward_ad``), custom functions (``Function``)."""
from . import forward_ad
from .engine import backward, grad
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .node import Node

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "forward_ad", "functional", "Node",
           "gradcheck", "gradgradcheck", "GradcheckError"]

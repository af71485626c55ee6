"""Function transforms (``torch.func``): vjp, jvp, grad, jacrev, jacfwd, hessian, hvp, vhp.

For f: Rⁿ → Rᵐ with Jacobian J (m×n):

* ``vjp``  — reverse mode: vᵀJ for any v, one backward pass whatever n is.
* ``jvp``  — forward mode: J·u for any u, one forward pass carrying tangents (``linearize``
  keeps the point and gives u ↦ J·u for many u).
* ``jacrev`` builds J from m VJPs (one per output); ``jacfwd`` from n JVPs (one per input).
  For a scalar loss of n parameters (m = 1) reverse mode needs one pass and forward mode n:
  why backpropagation, not forward mode, trains networks.
* ``hessian`` = jacfwd(jacrev(f)) (forward-over-reverse); ``hvp``/``vhp`` give H·v and vᵀH
  without ever building H.

Functions take and return tensors or tuples of tensors; ``argnums`` is an int or a tuple (``grad``
also differentiates a pytree argument: a dict/tuple/list of tensors, gradients in its shape).
``functional_call`` runs a module with given parameters, ``stack_module_state`` stacks an
ensemble's states for ``vmap``.
"""
from .stateless import functional_call, replace_all_batch_norm_modules_, stack_module_state
from .transforms import (grad, grad_and_value, hessian, hvp, jacfwd, jacrev, jvp, linearize, vhp,
                         vjp, vmap)

__all__ = ["vjp", "jvp", "grad", "grad_and_value", "jacrev", "jacfwd", "hessian", "hvp", "vhp",
           "vmap", "linearize", "functional_call", "stack_module_state",
           "replace_all_batch_norm_modules_"]

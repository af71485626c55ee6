"""``LazyModuleMixin``: modules whose parameter shapes come from their first input (torch's
"lazy modules", ``nn.LazyLinear(10)`` infers ``in_features``)."""
from __future__ import annotations

import itertools

from ..._modes import no_grad
from ..parameter import is_lazy

__all__ = ["LazyModuleMixin"]


class LazyModuleMixin:
    """A mixin for modules that create their parameters on the first call, from its input.

    Until then the module holds :class:`~chainrule.nn.UninitializedParameter` s (and
    uninitialized buffers) that cannot be used; the first call runs
    :meth:`initialize_parameters` (a forward pre-hook) which materializes them with the
    inferred shapes and draws their initial values as the eager layer does, then the module
    becomes ``cls_to_become`` (``type(m)`` is ``nn.Linear`` after a ``LazyLinear``'s first
    call). Convert dtype before the first call, and build the optimizer after it (a "dry run"),
    as torch advises: the parameters an optimizer holds are materialized in place, so building
    it first works too.

    Lazy modules draw their initial weights at the first call, so a network that mixes lazy and
    eager layers draws them in another order than its eager twin.

    ``state_dict()`` of an uninitialized module holds the uninitialized parameters; loading a
    materialized state dict into a lazy module materializes it (it stays lazy until its first
    call, which then keeps the loaded values).

    Example::

        net = nn.Sequential(nn.LazyLinear(10), nn.ReLU(), nn.LazyLinear(1))
        net(chainrule.ones(4, 3))          # dry run: in_features = 3, then 10
        opt = chainrule.optim.SGD(net.parameters(), lr=0.1)
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # an uninitialized entry is saved as it is (it has no values to detach)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if is_lazy(param) or keep_vars \
                    else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buf if is_lazy(buf) or keep_vars else buf.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """Load pre-hook: an uninitialized entry that the state dict holds materialized takes
        its shape, so the load then copies the values into it."""
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None and is_lazy(param):
                value = state_dict[key]
                if not is_lazy(value):
                    with no_grad():
                        param.materialize(tuple(value.shape))

    def initialize_parameters(self, *args, **kwargs):
        """Materialize the parameters from the first call's arguments (each lazy module
        defines it: ``LazyLinear`` reads ``input.shape[-1]``)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module (not its children) is still
        uninitialized."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                        self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook of the first call: materialize, drop the hooks, become
        ``cls_to_become``."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize the "
                           "modules")

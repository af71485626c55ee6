"""Moving state between chainrule and torch: one call each way for nested containers.

``to_torch(obj)`` turns every chainrule Tensor inside ``obj`` (a tensor, a model's
``state_dict()``, an optimizer's ``state_dict()``, or any dict / list / tuple of them) into a
torch tensor, so ``torch_model.load_state_dict(to_torch(cr_model.state_dict()))`` and
``torch_opt.load_state_dict(to_torch(cr_opt.state_dict()))`` work. The values are copied
(torch and chainrule never share an optimizer's buffers); dtypes and shapes are kept, so an
optimizer's ``state[i]['step']`` stays the 0-d float32 tensor torch expects. The other way needs
no conversion: chainrule's ``load_state_dict`` methods accept torch tensors.

torch is imported only when ``to_torch`` is called (it is not a dependency of chainrule).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["to_torch"]


def to_torch(obj):
    """``obj`` with each chainrule Tensor replaced by a torch tensor holding a copy of its
    values (same dtype and shape; ``requires_grad`` kept for leaves). Dicts (including
    OrderedDicts), lists and tuples are rebuilt recursively; anything else is returned as is.

    Raises ImportError when torch is not installed."""
    import torch   # optional: only this conversion needs it

    def convert(x):
        if isinstance(x, Tensor):
            t = torch.from_numpy(np.array(x._data, copy=True))
            return t.requires_grad_(True) if x.requires_grad and x.is_leaf else t
        if isinstance(x, dict):
            out = type(x)() if type(x) is not dict else {}
            for k, v in x.items():
                out[k] = convert(v)
            return out
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return type(x)(*[convert(v) for v in x])
        if isinstance(x, (list, tuple)):
            return type(x)(convert(v) for v in x)
        return x
    return convert(obj)

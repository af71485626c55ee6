"""Calling a module with other tensors in place of its parameters and buffers
(``torch.func.functional_call``), and stacking the states of identical models
(``torch.func.stack_module_state``) to run an ensemble under ``vmap``.

The module is duck-typed (``named_parameters``/``named_buffers``/``get_submodule`` and the
``_parameters``/``_buffers`` stores) so this engine-level package need not import ``nn``."""
from __future__ import annotations

import contextlib

from ..ops import stack

__all__ = ["functional_call", "stack_module_state"]


def _owner(module, name):
    """(the submodule holding ``name``, the attribute name there)."""
    prefix, _, attr = name.rpartition(".")
    return (module.get_submodule(prefix) if prefix else module), attr


@contextlib.contextmanager
def _reparametrize(module, values, tie_weights, strict):
    """Within the block, each dotted name in ``values`` reads the given tensor; afterwards the
    module's own parameters and buffers are back (also when the call raised)."""
    originals = dict(module.named_parameters(remove_duplicate=False))
    originals.update(module.named_buffers(remove_duplicate=False))
    if strict:
        missing = sorted(set(originals) - set(values))
        unexpected = sorted(set(values) - set(originals))
        if missing or unexpected:
            parts = []
            if unexpected:
                parts.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                parts.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(parts))
    values = dict(values)
    if tie_weights:
        # a tensor registered under several names (tied weights): giving one name gives all
        by_id = {}
        for name, t in originals.items():
            if t is not None:
                by_id.setdefault(id(t), []).append(name)
        for names in by_id.values():
            given = [n for n in names if n in values]
            if len(given) > 1 and any(values[n] is not values[given[0]] for n in given[1:]):
                raise ValueError(f"functional_call got multiple values for keys {given}, which "
                                 "are tied. Consider using tie_weights=False")
            if given:
                for n in names:
                    values.setdefault(n, values[given[0]])
    restore = []
    try:
        for name, value in values.items():
            mod, attr = _owner(module, name)
            store = next((s for s in (mod._parameters, mod._buffers) if attr in s), None)
            if store is not None:
                restore.append((store, attr, store[attr]))
                store[attr] = value        # the store, not setattr: a plain tensor is allowed here
            else:
                restore.append((mod.__dict__, attr, mod.__dict__.get(attr, _ABSENT)))
                mod.__dict__[attr] = value
        yield
    finally:
        for store, attr, old in reversed(restore):
            if old is _ABSENT:
                store.pop(attr, None)
            else:
                store[attr] = old


_ABSENT = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` computed with the tensors of ``parameter_and_buffer_dicts``
    (a dict, or a tuple of dicts with disjoint keys, from dotted names as in ``state_dict``)
    in place of the module's parameters and buffers; the module is unchanged afterwards.

    The result is a function of those tensors, so ``grad``/``vmap`` can differentiate or batch
    over them: ``grad(lambda p: loss(functional_call(model, p, (x,))))(params)``.

    Args:
        module: the Module to call.
        parameter_and_buffer_dicts (dict or tuple of dicts): name → tensor.
        args: a single argument or a tuple of positional arguments.
        kwargs (dict, optional): keyword arguments.
        tie_weights (bool): a value given for one name of a tied tensor is used for all names.
        strict (bool): RuntimeError unless the names are exactly the module's parameters and
            buffers.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        values = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        values = {}
        for d in parameter_and_buffer_dicts:
            if not isinstance(d, dict):
                raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                                 f"dictionaries, got {type(d).__name__}")
            repeated = sorted(set(values) & set(d))
            if repeated:
                raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            values.update(d)
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, values, tie_weights, strict):
        return module(*args, **kwargs)


def stack_module_state(models):
    """``(params, buffers)``: for each name, the tensors of all ``models`` (same class, same
    mode) stacked along a new dim 0 — shape (len(models),) + the tensor's shape. Stacked
    parameters are new leaves that require grad (detached from the models); run the ensemble
    with ``vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))``."""
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]

    def leaf(tensors, name):
        grads = [t.requires_grad for t in tensors]
        if any(grads) and not all(grads):
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        result = stack([t.detach() for t in tensors])
        return result.requires_grad_() if all(grads) else result

    params = {k: leaf([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root):
    """Make every batch norm in ``root`` (itself included) stop tracking running statistics,
    in place, as torch: ``running_mean``, ``running_var`` and ``num_batches_tracked`` become
    None and ``track_running_stats`` False, so each forward normalises with its own batch's
    statistics (what ``vmap`` over a model needs). Returns ``root``."""
    # nn sits above func: torch.func's name, nn's classes, imported when called
    from ..nn.modules.normalization import _BatchNorm, _InstanceNorm
    for module in root.modules():
        # torch's instance norms are not batch norms (chainrule's derive from _BatchNorm)
        if (isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm)
                and module.track_running_stats):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root

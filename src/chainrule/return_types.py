"""The named result tuples of ops that return several tensors (``torch.return_types``):
``chainrule.max(x, dim)`` returns a ``return_types.max`` with fields ``values`` and
``indices``. They are tuples (unpack them, index them) that print as torch's do::

    chainrule.return_types.max(
    values=tensor([3., 2.]),
    indices=tensor([1, 0]))
"""
from __future__ import annotations

from collections import namedtuple

__all__ = ["aminmax", "cummax", "cummin", "kthvalue", "max", "median", "min", "mode",
           "nanmedian", "sort", "topk", "frexp", "histogram",
           "histogramdd"]


def _structseq(name, fields):
    """A namedtuple type named ``name`` (pickled by this module's name) with torch's repr."""
    base = namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"chainrule.return_types.{name}(\n{body})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                                "__module__": __name__, "__qualname__": name,
                                "__doc__": f"The result of ``{name}``: ({', '.join(fields)})."})


max = _structseq("max", ["values", "indices"])
min = _structseq("min", ["values", "indices"])
sort = _structseq("sort", ["values", "indices"])
topk = _structseq("topk", ["values", "indices"])
kthvalue = _structseq("kthvalue", ["values", "indices"])
median = _structseq("median", ["values", "indices"])
nanmedian = _structseq("nanmedian", ["values", "indices"])
mode = _structseq("mode", ["values", "indices"])
cummax = _structseq("cummax", ["values", "indices"])
cummin = _structseq("cummin", ["values", "indices"])
aminmax = _structseq("aminmax", ["min", "max"])
frexp = _structseq("frexp", ["mantissa", "exponent"])
histogram = _structseq("histogram", ["hist", "bin_edges"])
histogramdd = _structseq("histogramdd", ["hist", "bin_edges"])

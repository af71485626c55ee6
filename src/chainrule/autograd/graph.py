"""``torch.autograd.graph``'s ``Node``: the class of every ``grad_fn`` (:mod:`chainrule._graph`)."""
from .._graph import Node

__all__ = ["Node"]

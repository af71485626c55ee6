"""The computational graph: primitives as declared rules, and the nodes that record them.

A primitive is a :class:`Node` subclass that states, in one place, its parameters, its forward
on NumPy arrays, and its derivative in the lightest form that fits:

* **elementwise** (``elementwise = True``): for each input ``a`` a rule ``d_a`` giving the local
  derivative ∂y/∂a; the engine applies it as ḡ·∂y/∂a (VJP) and ṫ·∂y/∂a (JVP)::

      class Sin(Node):                   # y = sin x,  ∂y/∂x = cos x
          elementwise = True
          def forward(self, x):
              return np.sin(x)
          def d_x(self, xp, x):
              return xp.cos(x)

  (``ops/elementwise.py`` writes most of them as one line each of a table). Where a tuned
  library call computes the product ḡ·∂y/∂a in one pass, the primitive may also declare it as
  ``kernel_d_a(g, <values>)`` (ReLU's, on oneDNN; a method when it needs the op's parameters,
  GELU's): a plain backward and a compiled replay run it instead of ḡ times the rule, which
  stays the definition (the recorded path, forward mode, and the test the kernel is checked
  against);
* **linear** (``linear = True``): its JVP is the op itself applied to the tangents, and only its
  transpose — the VJP — is declared, once, as ``transpose(self, xp, g)``;
* anything else: ``vjp(self, xp, g, ...)`` returning one gradient per input (``None`` where
  ``self.needs_input_grad`` is false) and ``jvp(self, xp, tangents, ...)``.

A rule asks for the values it needs by naming them after its fixed arguments: an input by its
name in ``forward``'s signature (all of them, for a ``forward(self, *xs)``, as ``*xs``), the
output as ``out``. The node saves exactly those kinds of
value (inputs, output, or nothing — only shapes) and hands them to the rule as arrays or as
Tensors, with the namespace ``xp`` to match (:mod:`chainrule.backends.namespace`): the same rule
is the fast array path of a plain ``backward()`` and the recorded, differentiable path of
``create_graph=True`` and forward mode. Broadcasting is undone here, once, for every rule: a
gradient whose shape differs from its input's is summed back to it.

Parameters are declared (``params = ("shape",)``) and passed by keyword to ``apply``; ``forward``
may record facts it computes (such as an input's shape) on ``self``.

A recorded node carries torch's name for the operation (``y.grad_fn`` is an ``AddBackward0``,
a Linear layer's an ``AddmmBackward0``): each primitive records nodes of a subclass named
``backward_name`` (default ``<Primitive>Backward0``), and ``Primitive.named("SumBackward1")``
is the same primitive under the name torch gives another overload. ``next_functions`` lists
``(node or None, 0)`` pairs as torch's does; a leaf's node is its ``AccumulateGrad``.
"""
from __future__ import annotations

import inspect
import itertools
import weakref
from sys import getrefcount as _refcount

import numpy as np

from ._dtype import from_numpy_dtype
from ._modes import FORWARD, STATE, TRACE, attach_tangent, check_inference_inputs, forward_suspended
from .backends.fpstate import enter as _fp_enter, leave as _fp_leave, quiet
from .backends.namespace import ArrayOps, TensorOps

_sequence = itertools.count()
_new = object.__new__       # Node and Tensor define no __new__: allocate without the lookup
_ndarray = np.ndarray
_asarray = np.asarray

_FIXED = {"self", "xp", "g", "tangents"}   # the arguments every rule gets; the rest it asks for
_ALL = "*"    # in a rule's needs: every input of a variadic forward


class Node:
    """One primitive recorded in the graph; see the module docstring."""

    params = ()          # names of the keyword parameters apply() takes
    backward_name = None  # torch's name for the recorded node; default "<class name>Backward0"
    elementwise = False  # derivative declared as d_<input>: ∂y/∂input, applied by the engine
    linear = False       # JVP is the op on the tangents; VJP is ``transpose``
    is_view = False      # output shares memory (and the in-place version counter) with input 0
    grad_reads = None    # per input, the inputs its VJP reads (None: all of them); a bilinear op
                         # ((1,), (0,)) reads b for ā and a for b̄, as torch saves them
    array_rules = True   # its rules may run on bare arrays (a custom Function's may not)
    non_differentiable = ()  # inputs torch's node has no edge for (class indices, say)
    mutated_inputs = ()  # indices of inputs its forward updates in place (running statistics)
    differentiable = True  # False: no derivative rules; never recorded for autograd
    data_params = ()     # parameters that carry a tensor's values (an index, a mask)
    writes_key = False   # linear, and its transpose writes ḡ into zeros of the input's shape at
                         # ``self.key`` (a basic index): the engine writes the gradients of such
                         # nodes that meet at one input into one buffer (split's pieces)

    # filled per class by __init_subclass__ from the signatures of forward and the rules
    _input_names = ()
    _needs = {}          # rule name -> what it asks for: input indices, -1 for the output,
    _variadic = None     # the name of forward's *inputs, if it takes any number of them
    _d_rules = ()        # an elementwise primitive's "d_<input>" rules, in input order
    _d_specs = ()        # ... as ((function, takes self), what it asks for)
    _d_kernels = ()      # ... each one's optional kernel_d_<input>([self,] g, values) as
                         # (function, takes self): ḡ·∂y/∂input in one tuned call on arrays, run
                         # by a plain backward in place of ḡ times the rule (which stays the
                         # definition: recorded path, JVP, tests)
    _param_set = frozenset()
    save_inputs = False
    save_output = False

    inputs = None
    needs_input_grad = ()
    _next = ()           # the nodes (or None) each input's gradient flows to
    in_shapes = ()
    _pre_hooks = None
    _post_hooks = None
    _released = False
    _out = None
    _out_tangent = None
    _saved_versions = None

    def __init_subclass__(cls, node_type=False, **kwargs):
        """Read what each rule asks for from its signature, once per class."""
        super().__init_subclass__(**kwargs)
        if node_type:   # the class of recorded nodes (made below): its primitive's rules as they are
            return
        if "forward" in cls.__dict__ and "_input_names" not in cls.__dict__:
            names = inspect.signature(cls.forward).parameters
            cls._input_names = tuple(n for n in names if n != "self")
            cls._variadic = next((n for n, p in names.items() if p.kind is p.VAR_POSITIONAL), None)
        if not hasattr(cls, "forward"):   # a base that shares rules: its subclasses name the inputs
            return
        needs = {}
        for rule in dir(cls):
            if rule in ("vjp", "jvp", "transpose") or rule.startswith("d_"):
                asked = [p for p in inspect.signature(getattr(cls, rule)).parameters
                         if p not in _FIXED]
                needs[rule] = tuple(-1 if p == "out" else _ALL if p == cls._variadic
                                    else cls._input_names.index(p) for p in asked)
        cls._needs = needs
        wanted = set(itertools.chain.from_iterable(needs.values()))
        cls.save_output = -1 in wanted
        cls.save_inputs = bool(wanted - {-1})
        cls._param_set = frozenset(cls.params)
        if cls.elementwise:   # each input's (derivative function, takes self?) and what it asks for
            cls._d_rules = tuple("d_" + n for n in cls._input_names)
            cls._d_specs = tuple((_function(cls, rule), needs[rule]) for rule in cls._d_rules)
            cls._d_kernels = tuple(_function(cls, "kernel_" + rule)
                                   if hasattr(cls, "kernel_" + rule) else None
                                   for rule in cls._d_rules)
        name = cls.__dict__.get("backward_name") or cls.__name__ + "Backward0"
        cls._node_type = type(name, (cls,), {"__module__": cls.__module__, "__qualname__": name,
                                             "__doc__": cls.__doc__, "backward_name": name},
                              node_type=True)

    @classmethod
    def named(cls, backward_name: str) -> type:
        """This primitive, recording its nodes as ``backward_name``: torch names the overloads of
        one operation apart (``SumBackward0`` for a full sum, ``SumBackward1`` over dims)."""
        return type(cls.__name__, (cls,), {"__module__": cls.__module__,
                                           "backward_name": backward_name})

    # ------------------------------------------------------------------ recording
    @classmethod
    def run(cls, *arrays, **params):
        """The forward on arrays alone: nothing recorded (the array side of ``xp.apply``)."""
        node = _new(cls)
        if params:
            if not params.keys() <= cls._param_set:
                _reject(cls, params)
            node.__dict__.update(params)
        with quiet():
            return node.forward(*arrays)

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the primitive on Tensors ``inputs``; record a node when a gradient may be needed."""
        # This runs for every op (and for every op inside a recorded rule), so it is kept lean:
        # no generator expressions, the recording work only when recording.
        node = _new(cls._node_type)
        if params:   # declared in cls.params; forward and the rules read them as self.<name>
            if not params.keys() <= cls._param_set:
                _reject(cls, params)
            node.__dict__.update(params)
        n = len(inputs)
        fp = _fp_enter()   # IEEE values (log 0 = -inf) without NumPy's warnings, as torch
        try:
            if n == 1:
                out = node.forward(inputs[0]._data)
            elif n == 2:
                out = node.forward(inputs[0]._data, inputs[1]._data)
            else:
                out = node.forward(*[t._data for t in inputs])
        finally:
            _fp_leave(fp)
        result = inputs[0]._make(out)
        record = False
        if STATE.grad_enabled and cls.differentiable:
            for t in inputs:
                if t.requires_grad:
                    record = True
                    break
        if cls.is_view:
            src = inputs[0]
            result._version_box = src._version_box
            result._base = base = src if src._base is None else src._base
            if record:
                result._base_fn = base.grad_fn
        if record:
            for t in inputs:   # a view whose base has changed in place since: history afresh
                if t._base_fn is not None and t._base.grad_fn is not t._base_fn:
                    rebase_view(t)
            result._requires_grad = True
            if n == 2:   # unrolled for the common arities (a list comprehension is a call)
                a, b = inputs
                node.needs_input_grad = (a.requires_grad, b.requires_grad)
                node._next = (a.grad_fn or _edge(a), b.grad_fn or _edge(b))
                node.in_shapes = (a._data.shape, b._data.shape)
            elif n == 1:
                a = inputs[0]
                node.needs_input_grad = (True,)
                node._next = (a.grad_fn or _edge(a),)
                node.in_shapes = (a._data.shape,)
            else:
                node.needs_input_grad = tuple([t.requires_grad for t in inputs])
                node._next = tuple([t.grad_fn or _edge(t) for t in inputs])
                node.in_shapes = tuple([t._data.shape for t in inputs])
            node.sequence_nr = next(_sequence)
            node.out_shape = result._data.shape
            result.grad_fn = node
        if FORWARD.active and cls.differentiable:
            _forward_tangent(node, inputs, result)
        if record:
            if cls.save_inputs:
                if not STATE.inference:   # tensors made in inference_mode stay out of graphs
                    check_inference_inputs(inputs)
                node.inputs = inputs
                node._saved_versions = (
                    (inputs[0]._version_box[0],) if n == 1 else
                    (inputs[0]._version_box[0], inputs[1]._version_box[0]) if n == 2 else
                    tuple([t._version_box[0] for t in inputs]))
            if cls.save_output:
                node._out = result._data
                node._out_version = (result._version_box, result._version_box[0])
        if TRACE.recorder is not None:   # a graph capture (chainrule.fx) is running
            TRACE.recorder.op(cls, params, inputs, result)
        return result

    def _output(self, like):
        """The output as a Tensor whose grad_fn is this node when the node is recorded (so the
        rules are themselves differentiable); ``like`` is any Tensor, to make it with."""
        recorded = bool(self._next)
        t = like._make(self._out, recorded)
        if recorded:
            t.grad_fn = self
        if self._out_tangent is not None:
            attach_tangent(t, self._out_tangent)
        return t

    def _saved(self, rule, xp):
        """The values ``rule`` asked for: Tensors when recording, arrays otherwise."""
        needs = self._needs[rule]
        if not needs:
            return ()
        inputs = self.inputs
        n = len(inputs) if inputs is not None else 0   # an optional input not given is None
        if _ALL in needs:   # a variadic forward's rule asks for every input
            needs = tuple(itertools.chain.from_iterable(
                range(n) if i == _ALL else (i,) for i in needs))
        if xp.recording:
            return [self._output(xp.like) if i < 0 else inputs[i] if i < n else None
                    for i in needs]
        return [self._out if i < 0 else inputs[i]._data if i < n else None for i in needs]

    # ------------------------------------------------------------------ the derivative rules
    def _vjp(self, xp, g):
        """∂L/∂input_i for every input (None where not needed), from the declared rule."""
        if self.elementwise:
            if xp.recording:
                return [_times(xp, g, getattr(self, rule)(xp, *self._saved(rule, xp)))
                        if need else None
                        for rule, need in zip(self._d_rules, self.needs_input_grad)]
            inputs, out = self.inputs, self._out     # on arrays: the same rules, called directly
            grads = []
            for ((fn, bound), needs), need, kernel in zip(self._d_specs, self.needs_input_grad,
                                                           self._d_kernels):
                if not need:
                    grads.append(None)
                    continue
                if len(needs) == 1:      # most rules ask for one value: no list to build
                    i = needs[0]
                    values = (out if i < 0 else inputs[i]._data,)
                else:
                    values = [out if i < 0 else inputs[i]._data for i in needs]
                if kernel is not None:
                    grads.append(kernel[0](self, g, *values) if kernel[1] else
                                 kernel[0](g, *values))
                else:
                    d = fn(self, xp, *values) if bound else fn(xp, *values)
                    grads.append(select(d, g) if getattr(d, "dtype", None) == np.bool_ else g * d)
            return grads
        grads = self.transpose(xp, g) if self.linear else self.vjp(xp, g, *self._saved("vjp", xp))
        return grads if type(grads) is tuple or type(grads) is list else (grads,)

    def _jvp(self, inputs, tangents):
        """ṫ_out = Σ_i J_i ṫ_i from the declared rule, on Tensors (tangents: None means zero)."""
        xp = TensorOps(inputs[0])
        if self.elementwise:
            total = None
            for rule, t in zip(self._d_rules, tangents):
                if t is not None:
                    d = getattr(self, rule)(xp, *self._saved(rule, xp))
                    if (hasattr(d, "_data") and d._data.dtype.kind == "f"
                            and d._data.dtype != self._out.dtype):
                        # a rule like I(a > b) + ½·I(a = b) comes out in the default dtype:
                        # in the output's, a 0-d tangent is not rounded to it
                        d = d.to(from_numpy_dtype(self._out.dtype))
                    term = t * d
                    total = term if total is None else total + term
            if total is not None and total._data.shape != self._out.shape:
                total = total.expand(self._out.shape)
            return total
        if self.linear:
            filled = [t if t is not None else x._make(np.zeros_like(x._data))
                      for x, t in zip(inputs, tangents)]
            return type(self).apply(*filled, **{p: getattr(self, p) for p in self.params})
        return self.jvp(xp, tangents, *self._saved("jvp", xp))

    # ------------------------------------------------------------------ torch's Node interface
    def name(self) -> str:
        """torch's name for this node, e.g. ``"AddmmBackward0"``."""
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """((node or None, output index), ...), one pair per input, as torch's; every chainrule
        node has one output, so the index is 0. An input declared ``non_differentiable`` has
        no edge, as in torch."""
        if self.non_differentiable:
            return tuple([(n, 0) for n, name in zip(self._next, self._input_names)
                          if name not in self.non_differentiable])
        return tuple([(n, 0) for n in self._next])

    @property
    def metadata(self) -> dict:
        """A dict to keep your own notes on this node (torch's ``Node.metadata``)."""
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    def __getattr__(self, name):
        """torch's ``_saved_<name>``: the saved input called ``name`` (``self``/``other`` for the
        first/second one), ``_saved_result`` for a saved output, or a parameter."""
        if not name.startswith("_saved_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        key = name[len("_saved_"):]
        if key == "result":
            if self._out is not None:
                return self._output(_Maker)
        else:
            names = self._input_names
            index = names.index(key) if key in names else {"self": 0, "other": 1}.get(key)
            if index is not None and self.inputs is not None and index < len(self.inputs):
                return self.inputs[index]
            if key in self._param_set:
                return self.__dict__.get(key, getattr(type(self), key, None))
        if self._released:
            raise RuntimeError(f"{self.name()}: {name} was freed after backward; pass "
                               "retain_graph=True to keep it")
        raise AttributeError(f"{self.name()} saved no {key!r}")

    def register_prehook(self, hook):
        """``hook(grad_outputs) -> grad_outputs or None``, called with a tuple holding the
        output's gradient before this node's VJP (torch's ``Node.register_prehook``)."""
        def on_tensor(grad):
            new = hook((grad,))
            return None if new is None else new[0]
        return self._add_pre_hook(on_tensor)

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs) -> grad_inputs or None``, called after this node's
        VJP with tuples of the inputs' and the output's gradients (torch's
        ``Node.register_hook``); a returned tuple replaces the inputs' gradients."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _RemovableHandle(self._post_hooks, hook)

    def _add_pre_hook(self, hook):
        """``hook(grad) -> grad or None`` on the output's gradient (a Tensor)."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)

    # ------------------------------------------------------------------ running backward

    def _check_saved(self):
        if self._released and (self.save_inputs or self.save_output):
            raise RuntimeError(
                f"Trying to backward through the graph a second time (in {self.name()}): its saved "
                "tensors were freed after the first backward. Pass retain_graph=True to the first "
                "backward() or autograd.grad() call if you need to backward twice.")
        # (which values the rule reads is worked out only for a value changed since: the
        # common case, nothing changed, costs one comparison per saved value)
        versions = self._saved_versions   # set when the inputs were saved for backward
        if versions is not None and self.inputs is not None:
            for i, (t, v) in enumerate(zip(self.inputs, versions)):
                if t._version_box[0] != v:
                    read = self._values_read()
                    if read is None or i in read:
                        _raise_modified(self, t, v)
        if self.save_output and self._out is not None:
            box, v = self._out_version
            if box[0] != v:
                read = self._values_read()
                if read is None or -1 in read:
                    _raise_modified(self, self._out, v, box[0])

    def _values_read(self):
        """The saved values this node's backward reads — input indices, −1 for the output —
        or None for all of them. An elementwise rule reads only what the derivatives of the
        inputs that need a gradient ask for (y = d·w with w constant reads w, not d), so an
        in-place change of a value no rule reads is no error, as in torch (which saves only
        those)."""
        if self.elementwise:
            reads = (asked for _, asked in self._d_specs)
        elif self.grad_reads is not None:
            reads = self.grad_reads
        else:
            return None
        read = set()
        for asked, need in zip(reads, self.needs_input_grad):
            if need:
                read.update(asked)
        return None if _ALL in read else read

    def _run_backward(self, grad):
        """The gradients for this node's inputs, given its output's gradient ``grad`` (a Tensor):
        the rule on arrays in a plain backward, recorded on Tensors otherwise; each summed back
        over broadcast dims to its input's shape."""
        if self._released or self._saved_versions is not None or self.save_output:
            self._check_saved()   # (nothing to check for a node that saved nothing)
        on_arrays = self.array_rules and not STATE.grad_enabled and not FORWARD.active
        grads = self._vjp(ArrayOps, grad._data) if on_arrays else self._vjp(TensorOps(grad), grad)
        if len(grads) != len(self._next):
            raise RuntimeError(f"{self.name()}: backward returned {len(grads)} gradients for "
                               f"{len(self._next)} inputs")
        out = []
        if not on_arrays:
            for r, shape in zip(grads, self.in_shapes):
                out.append(r if r is None or r._data.shape == shape
                           else TensorOps.unbroadcast(r, shape))
            return out
        g, elementwise, single = grad._data, self.elementwise, len(grads) == 1
        for r, shape in zip(grads, self.in_shapes):
            if r is None:
                out.append(None)
                continue
            if r is g and r.shape == shape:   # passed through unchanged (add, a view's identity)
                grad._unshared = False         # now reaches more than one place
                out.append(grad)
                continue
            r = _input_grad(r, shape, g.dtype, elementwise)
            t = grad._make(r)
            if r.base is None:   # a new array the rule made: a leaf may adopt it without a copy
                t._unshared = r is not g
            elif r.flags.c_contiguous or r.size == r.base.size:
                # a view nothing else holds the memory of: of a new array (its base is referenced
                # by this view alone: the count is that reference plus getrefcount's argument),
                # or of an unshared incoming gradient passed on to a single input (e.g. through
                # the transpose of a Linear layer's weight: Addmm's B̄ is the transpose of a
                # new ȳᵀA, which TBackward0 turns back into a C-contiguous W̄ to adopt)
                t._unshared = _refcount(r.base) == 2 or (
                    single and grad._unshared and r.base is (g if g.base is None else g.base))
            out.append(t)
        return out

    def array_vjp(self, g):
        """The inputs' gradients for the output's gradient ``g``, all on arrays: the rule, each
        result summed back over broadcast dims to its input's shape. A replayed graph
        (:mod:`chainrule.fx`) runs its backward through this, with no Tensors."""
        elementwise = self.elementwise
        return [None if r is None else _input_grad(r, shape, g.dtype, elementwise)
                for r, shape in zip(self._vjp(ArrayOps, g), self.in_shapes)]

    def _release(self):
        """Free what backward needed (called after a backward without retain_graph)."""
        self._released = True
        self.inputs = None
        self._out = None
        self._out_tangent = None


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def select(mask, g):
    """g where ``mask`` holds, +0 elsewhere (broadcasting): ḡ through a masked rule (ReLU,
    clamp, hardtanh, threshold), as torch's, which selects. ḡ·mask would give 0·∞ = NaN for an
    infinite ḡ where the mask is off (relu(x).sqrt() at x ≤ 0). By the bits — g AND all-ones or
    zero — since np.where with a random mask runs ~9× slower than that product."""
    bits = _UINT[g.dtype.itemsize]
    return np.bitwise_and(g.view(bits), np.negative(mask.astype(bits))).view(g.dtype)


def _times(xp, g, d):
    """ḡ·d for an elementwise rule's local derivative d, recorded; a mask d (bool) selects
    instead, as torch's masked rules (ReLU, clamp, hardtanh, threshold) do: a NaN or infinite ḡ
    where the mask is off gives 0, not 0·∞ = NaN (relu(x).sqrt() at x ≤ 0)."""
    if getattr(getattr(d, "_data", None), "dtype", None) == np.bool_:
        return xp.where(d, g, 0.0)
    return g * d


def _input_grad(r, shape, dtype, elementwise):
    """A rule's gradient for one input as an array of that input's shape (broadcasting undone);
    an elementwise rule's in the incoming gradient's ``dtype`` (NumPy may compute it wider)."""
    if type(r) is not _ndarray:
        r = _asarray(r)
    if r.shape != shape:
        r = ArrayOps.unbroadcast(r, shape)
    if elementwise and r.dtype != dtype:
        r = r.astype(dtype)
    return r


def _forward_tangent(node, inputs, result):
    """Forward mode: when an input carries a tangent, give ``result`` its JVP."""
    for t in inputs:
        if t._fw_tangent is not None:
            break
    else:
        return
    node.inputs = inputs
    node._out = result._data
    with forward_suspended():
        tangent = node._jvp(inputs, [t._fw_tangent for t in inputs])
    if tangent is not None:
        attach_tangent(result, tangent)
        attach_tangent(node, tangent, "_out_tangent")  # dropped with the level, like result's


class _Maker:
    """Stands in for a Tensor where one is needed only to make Tensors (``like._make``);
    ``chainrule.tensor``, which sits above this module, installs ``Tensor._make`` here."""

    _make = None


class AccumulateGrad(Node):
    """The sink of a leaf tensor: gradients arriving here are summed into ``leaf.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.sequence_nr = -1  # leaves run last

    def name(self):
        return "torch::autograd::AccumulateGrad"   # torch's name, so ported checks of it hold

    def __repr__(self):   # (torch prints the class name here, not name())
        return f"<AccumulateGrad object at {id(self):#x}>"

    def _release(self):
        pass


class HookHandle:
    """A hook registered in a dict under its key ``id`` (a module's or an optimizer's hooks;
    torch's RemovableHandle): ``remove()`` unregisters it, as leaving a ``with`` block does."""

    def __init__(self, hooks: dict, key):
        self._hooks, self.id = hooks, key

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


rebase_view = None   # set by chainrule.tensor: (view) -> None, its history re-read from its base


def _edge(t):
    """The node an input's gradient flows to: its grad_fn, its leaf accumulator, or None."""
    if t.grad_fn is not None:
        return t.grad_fn
    if not t.requires_grad:
        return None
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return acc


def _function(cls, name):
    """(the function behind cls.<name>, whether it takes self): a static rule does not."""
    attr = inspect.getattr_static(cls, name)
    return (attr.__func__, False) if isinstance(attr, staticmethod) else (attr, True)


def _reject(cls, params):
    unknown = sorted(set(params) - cls._param_set)
    raise TypeError(f"{cls.__name__}: unexpected parameters {unknown}; it takes "
                    f"{sorted(cls._param_set)}")


def _raise_modified(node, t, expected, current=None):
    """t: the saved input Tensor, or the saved output array (then ``current`` is given)."""
    current = t._version_box[0] if current is None else current
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} {list(t.shape)}] is at version {current}; expected version "
        f"{expected} instead (needed by {node.name()}). Use an out-of-place op (x = x * 2, not "
        "x *= 2) or .clone() the tensor before modifying it.")

"""Replay: run a captured :class:`~.graph.Graph` on new arguments, forward and backward.

The forward runs each primitive's ``forward`` on arrays, in the captured order, with none of
eager mode's per-op bookkeeping (no Tensor per intermediate, no recording decision, no version
counters). The backward is the deck's chain of vector-Jacobian products, run from the same
declared rules the eager engine uses, over a plan fixed at capture time: the ops between the
root and the leaves in reverse order, each with the inputs it needs gradients for. Both are
generated as straight-line Python (``Program.source``) that calls each rule directly; the
backward of a compiled Module's output, run later by the eager engine, walks the same plan
through ``Node.array_vjp`` (``CompiledFunctionBackward``). Values no later instruction needs
are dropped as soon as they are dead, and a ReLU's output after a training-mode batch norm
is not kept for the backward at all but rebuilt there from the batch norm's input, which the
backward keeps anyway (``_rematerialized``).
"""
from __future__ import annotations

import inspect
from sys import getrefcount as _refcount

import numpy as np

from .._backprop import _accumulate
from .._graph import _ALL, Node, _edge, _sequence
from .._modes import STATE
from ..backends.fpstate import enter as _fp_enter, leave as _fp_leave
from ..backends.namespace import ArrayOps
from ..tensor import Tensor
from ..nn.functional.normalization import BatchNormTrain
from ..ops.elementwise import Add, Relu, ReluInPlace, Sub
from ..ops.reduction import Sum
from . import passes
from .graph import Backward, Call, Op, Value, Write

_new = object.__new__
MISS = object()   # what a guarded run returns for a call that does not fit its graph
_OP, _BACKWARD, _WRITE, _CALL, _RANDOM, _ALIAS = range(6)   # kinds of step


class _Held:
    """What a rule reads an input through (``inputs[i]._data``), without a Tensor."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data


class Program:
    """A graph made ready to run: generated straight-line Python over the arrays (``source``),
    one line per forward op, per gradient term of the backward, per write and per call."""

    def __init__(self, graph, name="graph", optimize=True, guards=None):
        self.graph = graph
        self.rewrites = passes.optimize(graph) if optimize else {}
        self.folded = passes.constants(graph) if optimize else set()
        self.inputs = [v.index for v in graph.inputs]
        self.state_guard = [(v.tensor, v.shape, v.dtype, v.requires_grad) for v in graph.state]
        steps = []
        for i, ins in enumerate(graph.instructions):
            if isinstance(ins, Op) and ins.index in self.folded:
                continue   # computed by the prologue
            if isinstance(ins, Op):
                steps.append((_OP, (ins.index, ins.prim, ins.params or None,
                                    tuple(v.index for v in ins.inputs), ins.out.index)))
            elif isinstance(ins, Backward):
                plan = _backward_plan(graph, i, [r for r, _ in ins.roots])
                grads = tuple((r.index, None if g is None else g.index) for r, g in ins.roots)
                steps.append((_BACKWARD, (plan, grads)))
            elif isinstance(ins, Write):
                steps.append((_WRITE, (ins.target, ins.value.index)))
            elif isinstance(ins, Call):
                steps.append((_CALL, (ins.fn, ins.args, ins.kwargs)))
            elif isinstance(ins, Value):
                steps.append((_RANDOM, (ins.index, ins.draw)) if ins.kind == "random"
                             else (_ALIAS, (ins.index, ins.source.index)))
        runs_backward = any(kind == _BACKWARD for kind, _ in steps)
        outs = [v for v in graph.output_values() if v.kind == "op" and v.requires_grad]
        # a graph that does not run its own backward gets one through the eager engine
        self.output_plans = {} if runs_backward else {
            v.index: _backward_plan(graph, len(graph.instructions), [v]) for v in outs}
        plans = [*self.output_plans.values(), *[step[0] for kind, step in steps
                                                if kind == _BACKWARD]]
        self.keep = {s[0] for plan in plans for s in plan[0]}   # ops whose node backward uses
        self.remat = _rematerialized(graph, steps) if optimize else {}
        self.source, namespace = _generate(self, _with_frees(steps, graph,
                                                             list(self.output_plans.values()),
                                                             self.remat))
        if guards is not None:
            self.source = self._guarded_source(namespace, *guards)
        exec(compile(self.source, f"<chainrule.compile: {name}>", "exec"), namespace)
        self._run = namespace["run"]
        # with guards, ``_run(args, True)`` runs on the argument tuple ``args`` (Tensors only)
        # or returns ``MISS`` when the call does not fit this graph (chainrule.compile's fast path)
        self.guarded = guards is not None

    def _guarded_source(self, ns, grad_enabled, modules):
        """The run's source with a ``check`` argument: when true the run first returns ``MISS``
        if the call does not fit this graph — the arguments' shapes, dtypes and requires_grad,
        grad mode (``grad_enabled`` at capture), the ``modules``' training flags and the state's
        shapes. The checks are straight code in the run's own function (one call: a replay's
        checks cost about a microsecond; one compiled copy of the body, which for resnet20's
        training step is ~80 KB of bytecode)."""
        ns.update(_STATE=STATE, MISS=MISS)
        lines = ["def run(A, check=False):", "    if check:", "        try:",
                 f"            if len(A) != {len(self.inputs)} or _STATE.grad_enabled is not "
                 f"{bool(grad_enabled)}: return MISS"]
        # the arguments are loaded under the names run's own first lines give them
        # (a<j> = A[<j>]; v<i> = a<j>._data): checked one by one, or all at once (``else``)
        loads = [_load_line(j, v) for j, v in enumerate(self.graph.inputs)]
        checks = [(f"a{j}", f"v{v.index}", load.strip(), v.shape, v.dtype, v.requires_grad)
                  for j, (v, load) in enumerate(zip(self.graph.inputs, loads))]
        # the state tensors under the names run's loads give them (T<i>), each dtype under one
        # name: a graph's new names grow the interpreter's table of interned strings for good
        for v, (_, shape, dtype, requires_grad) in zip(self.graph.state, self.state_guard):
            checks.append((f"T{v.index}", "d", f"d = T{v.index}._data", shape, dtype, requires_grad))
        dtypes = {}
        for t, d, load, shape, dtype, requires_grad in checks:
            name = dtypes.setdefault(dtype, f"GD{len(dtypes)}")
            ns[name] = dtype
            lines.append(f"            {load}")
            # (a dtype equal but not identical to the captured one fails here and passes the
            # slower check by equality that follows a miss)
            lines.append(f"            if {d}.shape != {shape!r} or {d}.dtype is not {name} or "
                         f"{t}._requires_grad is not {bool(requires_grad)}: return MISS")
        for k, m in enumerate(modules):
            ns[f"GM{k}"] = m
            lines.append(f"            if GM{k}.training is not {bool(m.training)}: return MISS")
        lines += ["        except AttributeError:   # an argument that is not a Tensor",
                  "            return MISS", "    else:"]
        lines += ["    " + load for load in loads]
        body = self.source.split("\n")[1:]   # run's lines after its def
        if body[:len(loads)] != loads:   # (an invariant of _generate's, checked once per graph)
            raise RuntimeError("chainrule.compile: internal error: the generated run does not "
                               "start with its arguments' loads")
        return "\n".join(lines + body[len(loads):])

    def guard_state(self) -> str | None:
        """Why the tensors from outside no longer fit the graph (None when they do)."""
        for t, shape, dtype, requires_grad in self.state_guard:
            d = t._data
            if d.shape != shape or d.dtype != dtype or t.requires_grad != requires_grad:
                return "a parameter or buffer changed shape, dtype or requires_grad"
        return None

    def __call__(self, flat_args):
        """Run on the flattened argument tensors; returns the output tree of Tensors."""
        return self._run(flat_args)


def _load_line(j, value):
    """The generated line that loads argument ``j`` (graph input ``value``) and its array."""
    return f"    a{j} = A[{j}]; v{value.index} = a{j}._data"


def _generate(program, steps):
    """The source of ``run(A)`` (A: the argument tensors) and the names it reads.

    A primitive whose forward is a plain function (``staticmethod``: the elementwise table's
    ufuncs) is called as one; the others through a node made once, with its parameters, at
    build time — or per call, for the ops whose nodes the engine's backward of the outputs
    will use later. The backward calls each rule directly with the values it asks for."""
    graph = program.graph
    ns = {"_new": _new, "_fp_enter": _fp_enter, "_fp_leave": _fp_leave,
          "_asarray": np.asarray, "_unb": ArrayOps.unbroadcast,
          "_xp": ArrayOps, "_acc": _add_to_grad, "_T": Tensor._make, "_attach": _attach_backward,
          "_program": program, "_ndarray": np.ndarray, "_reduce": np.add.reduce}
    fresh = program.keep if program.output_plans else set()
    needs = {s[0]: (s[3], s[4]) for plan in _plans(program, steps) for s in plan[0]}
    lines = ["def run(A):"]
    add = lines.append
    for j, v in enumerate(graph.inputs):
        add(_load_line(j, v))
    arg_of = {v.index: f"a{j}" for j, v in enumerate(graph.inputs)}
    for v in graph.state:
        ns[f"T{v.index}"] = v.tensor
        add(f"    v{v.index} = T{v.index}._data")
    lines += _prologue_code(program, ns)
    producer = {ins.out.index: ins for ins in graph.instructions if isinstance(ins, Op)}
    viewed = {v.index for ins in graph.instructions   # memory other values share
              if isinstance(ins, Op) and ins.views for v in ins.inputs}
    viewed |= {ins.source.index for ins in graph.instructions
               if isinstance(ins, Value) and ins.kind == "alias"}
    viewed |= set(program.remat)   # (no op writes over them: their stash below must stay whole)
    body, named, gone = [], set(), set()
    last = max((i for i, (kind, _) in enumerate(steps) if kind is not None), default=-1)
    for i, (kind, step) in enumerate(steps):
        if kind == _OP:
            index, prim, params, ins, out = step
            args = ", ".join(f"v{i}" for i in ins)
            ns[f"C{index}"] = prim._node_type
            arrays = graph.instructions[index].array_params
            node = _node_code(index, prim, params, needs.get(index), index in fresh, ns, body)
            if node is not None:
                named.add(index)
                for name, value in arrays.items():   # this call's values, not the capture's
                    body.append(f"{node}.{name} = v{value.index}")
            dying = steps[i + 1][1] if i + 1 < len(steps) and steps[i + 1][0] is None else ()
            reuse = _in_place(graph.instructions[index], dying, producer, viewed,
                              program.folded)
            if reuse is not None:
                form, extra = _INPLACE_FORM[prim] if prim in _INPLACE_FORM else (prim.forward, "")
                ns[f"U{index}"] = form
                body.append(f"v{out} = U{index}({args}{extra}, out=v{reuse})")
            else:
                call = (f"F{index}({args})" if node is None else f"{node}.forward({args})")
                if node is None:
                    ns[f"F{index}"] = prim.forward
                elif (prim.forward is Sum.forward and index not in fresh   # (sum(dim) too)
                      and graph.values[ins[0]].dtype.char != "e"):
                    # NumPy's reduce itself, Sum.forward's work without its call (0.4 µs of a
                    # small step); the node keeps the input's (guarded) shape for its transpose
                    ns[node].in_shape = graph.values[ins[0]].shape
                    call = f"_reduce({args}, {params['dims']!r}, None, None, {params['keepdim']!r})"
                # NumPy gives a 0-d result as a scalar; eager's Tensor holds it as an array
                zero_d = graph.values[out].shape == ()
                body.append(f"v{out} = _asarray({call})" if zero_d else f"v{out} = {call}")
        elif kind is None:
            left = [s for s in step if s not in gone]
            for s in left:
                if s in program.remat:   # kept only where its batch norm cannot rebuild it
                    body.append(f"K{s} = None if n{program.remat[s][0]}.recipe is not None "
                                f"else v{s}")
            if i < last and left:   # (at the end, returning frees them anyway)
                body.append(f"del {', '.join(f'v{s}' for s in left)}")
        elif kind == _BACKWARD:
            dying = steps[i + 1][1] if i + 1 < len(steps) and steps[i + 1][0] is None else ()
            code, freed = _backward_code(step, graph, arg_of, dying, ns, f"_KB{i}",
                                         program.remat)
            body += code
            gone |= freed
        elif kind == _WRITE:
            target, value = step
            t = arg_of[target.index] if target.kind == "input" else f"T{target.index}"
            body.append(f"{t}._data[...] = v{value}; {t}._version_box[0] += 1")
        elif kind == _CALL:
            ns[f"F_{i}"], ns[f"ARGS{i}"], ns[f"KW{i}"] = step
            body.append(f"F_{i}(*ARGS{i}, **KW{i})")
        elif kind == _RANDOM:
            ns[f"DRAW{step[0]}"] = step[1]
            body.append(f"v{step[0]} = DRAW{step[0]}()")
        else:
            body.append(f"v{step[0]} = v{step[1]}")
    if program.output_plans:   # what the engine's backward of the outputs will need
        needed = sorted({s for plan in program.output_plans.values()
                         for _, out, ins, _, _ in plan[0] for s in (out, *ins)})
        body.append("S = {" + ", ".join(f"{i}: v{i}" for i in needed) + "}")
        body.append("N = {" + ", ".join(f"{k}: n{k}" for k in sorted(program.keep & named)) + "}")
    add("    fp = _fp_enter()")
    add("    try:")
    lines += ["        " + line for line in body] or ["        pass"]
    add("    finally:")
    add("        _fp_leave(fp)")
    add(f"    return {_output_code(graph.output, arg_of, program)}")
    return "\n".join(lines) + "\n", ns


def _prologue_code(program, ns):
    """The ops computed from state alone (``passes.constants``), run again only when a tensor
    they read has changed: each state tensor's version counter and array are compared with
    those of the last run."""
    graph = program.graph
    folded = [ins for ins in graph.instructions if isinstance(ins, Op) and ins.index in program.folded]
    if not folded:
        return []
    made = {ins.out.index for ins in folded}
    sources = sorted({v.index for ins in folded for v in ins.inputs if v.index not in made})
    needed = sorted({v.index for ins in graph.instructions if ins not in folded
                     for v in passes.reads(ins) if v.index in made} |
                    {v.index for v in graph.output_values() if v.index in made})
    code = ["def fold(" + ", ".join(f"v{i}" for i in sources) + "):"]
    for ins in folded:
        node = _new(ins.prim._node_type)
        node.__dict__.update(ins.params)
        ns[f"n{ins.index}"] = node
        code.append(f"    v{ins.out.index} = n{ins.index}.forward("
                    f"{', '.join(f'v{v.index}' for v in ins.inputs)})")
    code.append("    return (" + "".join(f"v{i}, " for i in needed) + ")")
    exec(compile("\n".join(code) + "\n", "<chainrule.compile prologue>", "exec"), ns)
    ns["_FOLD"] = [None, None]
    key = " + ".join(f"(T{i}._version_box[0], id(v{i}))" for i in sources) or "()"
    lines = [f"    key = {key}",
             "    if key != _FOLD[0]:",
             f"        _FOLD[1] = fold({', '.join(f'v{i}' for i in sources)}); _FOLD[0] = key"]
    if needed:
        lines.append(f"    {''.join(f'v{i}, ' for i in needed)}= _FOLD[1]")
    return lines


_INPLACE_FORM = {}   # filled below: primitives whose forward has an in-place ufunc form


def _in_place(op, dying, producer, viewed, folded):
    """The slot of an input of elementwise ``op`` that dies with it and whose memory the result
    can take (same shape and dtype, made by an earlier op of this call — not one the prologue
    keeps from call to call —, seen through no view), or None."""
    form = _INPLACE_FORM.get(op.prim)
    if form is None and not (_static_forward(op.prim) and isinstance(op.prim.forward, np.ufunc)):
        return None
    for v in op.inputs:
        made_by = producer.get(v.index)
        if (v.index in dying and v.shape == op.out.shape != () and v.dtype == op.out.dtype
                and made_by is not None and made_by.index not in folded
                and not made_by.views and v.index not in viewed
                and sum(u is v for u in op.inputs) == 1):
            return v.index
    return None


def _plans(program, steps):
    return [*program.output_plans.values(), *[step[0] for kind, step in steps
                                               if kind == _BACKWARD]]


def _static_forward(prim) -> bool:
    return isinstance(inspect.getattr_static(prim, "forward"), staticmethod)


def _node_code(index, prim, params, needs, fresh, ns, body):
    """The name of op ``index``'s node in the generated code (None when none is needed): one
    made per call (``fresh``), else one made now; either gets its parameters, and, when the
    op is in a backward plan, its ``needs_input_grad`` and ``in_shapes``."""
    static_rules = prim.elementwise and not any(bound for (_, bound), _ in prim._d_specs) \
        and not any(kernel and kernel[1] for kernel in prim._d_kernels)
    if _static_forward(prim) and (needs is None or static_rules):
        return None
    name = f"n{index}"
    if not fresh:
        node = _new(prim._node_type)
        node.__dict__.update(params or {})
        if needs is not None:
            node.needs_input_grad, node.in_shapes = needs
        ns[name] = node
        return name
    body.append(f"{name} = _new(C{index})")
    if params is not None:
        ns[f"P{index}"] = params
        body.append(f"{name}.__dict__.update(P{index})")
    if needs is not None:
        body.append(f"{name}.needs_input_grad, {name}.in_shapes = {needs!r}")
    return name


def _backward_code(step, graph, arg_of, dying, ns, cache, remat):
    """The chain of VJPs, unrolled: each op's rule called directly, its gradients summed back
    over broadcast dims (where the shapes say so) and added into its inputs' ``g``.

    ``known`` tracks which gradients are certainly arrays by then (a seed, or a term of an
    elementwise rule), so that no ``is None`` test is written for them. Forward values in
    ``dying`` (read last by this backward) are dropped right after the last rule that reads
    them, and each op's incoming gradient right after its rule: memory falls as the backward
    walks down, as in the eager engine. The terms of the linear ops whose incoming gradient is
    a constant (``_constant_ops``: ``loss.backward()``'s ones through a sum or a mean) are
    computed once and kept in ``ns[cache]`` until a seed tensor changes; they are never handed
    to a leaf as its ``.grad`` without a copy. The ``remat`` values are rebuilt right before
    the first rule that reads them (see ``_rematerialized``). Returns (lines, the forward
    values dropped)."""
    (plan_steps, leaves), roots = step
    last_read, first_read = {}, {}
    for k, plan_step in enumerate(plan_steps):
        for slot in _rule_reads(graph, plan_step):
            last_read[slot] = k
            first_read.setdefault(slot, k)
    drop_after, rebuild_at = {}, {}
    for slot, k in last_read.items():
        if slot in dying or slot in remat:
            drop_after.setdefault(k, []).append(slot)
    for slot in remat:
        rebuild_at.setdefault(first_read[slot], []).append(slot)
    if remat:
        ns["_relu_"] = ReluInPlace.forward
    leaf_slots = {i for i, _ in leaves}
    values, ops = graph.values, graph.instructions
    constant, full = _constant_ops(graph, plan_steps, roots)
    dtypes = {values[s].dtype for _, out, ins, _, _ in plan_steps for s in (out, *ins)} | \
        {values[g].dtype for _, g in roots if g is not None}
    uniform = len({d for d in dtypes if d.kind in "fc"}) == 1   # one float dtype (see below)
    read = {out for index, out, _, _, _ in plan_steps if index not in constant} | leaf_slots
    # A leaf's gradient that is certainly a new array is adopted with no test of its identity,
    # one kept from call to call (a constant) is copied; when every leaf's is one of the two,
    # no other can alias them and the ids handed out so far (``seen``) are not kept at all
    new = _new_gradients(graph, plan_steps, constant) - {r for r, _ in roots}
    kinds = {i: "new" if i in new and i not in full else "kept" if i in full else None
             for i, _ in leaves}
    tracked = any(kind is None for kind in kinds.values())
    code = [f"g{i} = None" for i in sorted({i for _, _, ins, _, _ in plan_steps for i in ins})
            if i not in full]   # (a constant slot is assigned from the kept arrays, or unread)
    if tracked:
        code.append("seen = set()")
    mark = "; seen.add(id(g{}))" if tracked else ""
    known = set()
    for r, g in roots:
        if g is None:   # backward()'s implicit ones: one read-only array, made now
            ones = np.ones(values[r].shape, values[r].dtype)
            ones.flags.writeable = False
            ns[f"O{r}"] = ones
        if g is not None:
            code.append(f"g{r} = v{g}" + mark.format(r))
        elif r in read:
            code.append(f"g{r} = O{r}" + mark.format(r))
        else:   # only the constant ops read them (below)
            continue
        known.add(r)
    if constant:
        code += _constant_terms_code(plan_steps, roots, constant, full, read, ns, cache, tracked)

    def add_term(pad, i, certain):
        if i in known:
            code.append(f"{pad}g{i} = g{i} + r")
        else:
            code.append(f"{pad}g{i} = r if g{i} is None else g{i} + r")
            if certain:
                known.add(i)

    for k, (index, out, ins, needs, shapes) in enumerate(plan_steps):
        if k:
            _drop(code, plan_steps[k - 1], drop_after.get(k - 1, ()), leaf_slots, constant)
        for s in rebuild_at.get(k, ()):   # relu(batch_norm(x)) again, bit for bit
            norm, x = remat[s]
            code.append(f"v{s} = K{s}; del K{s}")
            code.append(f"if v{s} is None: v{s} = _relu_(n{norm}.recompute(v{x}))")
        if index in constant:   # computed once (above): its terms to the other slots
            for j, i in enumerate(ins):
                if needs[j] and i not in full:
                    code.append(f"r = K{index}[{j}]")
                    code.append("if r is not None:")
                    add_term("    ", i, False)
            continue
        prim = ops[index].prim
        sure = out in known
        pad = "" if sure else "    "
        if not sure:
            code.append(f"if g{out} is not None:")
        if prim.elementwise:
            for j, ((fn, bound), asks) in enumerate(prim._d_specs):
                if not needs[j]:
                    continue
                read = [f"v{out}" if a < 0 else f"v{ins[a]}" for a in asks]
                args = ", ".join(["_xp"] + read)
                rule = f"n{index}.{prim._d_rules[j]}({args})" if bound else \
                    f"C{index}.{prim._d_rules[j]}({args})"
                # a rule that hands back the value it reads (Mul's ∂y/∂a = b) is not called
                identity = not bound and len(asks) == 1 and _returns_its_argument(fn)
                term = f"g{out} * {read[0] if identity else rule}"
                if prim._d_kernels[j] is not None:   # ḡ·∂y/∂x in one call, as the eager engine
                    owner = "n" if prim._d_kernels[j][1] else "C"
                    term = (f"{owner}{index}.kernel_{prim._d_rules[j]}"
                            f"({', '.join([f'g{out}'] + read)})")
                code.append(f"{pad}r = {term}" if values[out].shape else f"{pad}r = _asarray({term})")
                if values[out].shape != shapes[j]:
                    code.append(f"{pad}r = _unb(r, {shapes[j]!r})")
                # ḡ·(a value) keeps ḡ's dtype when every gradient and value is of one float
                # dtype and the value of it or an integer one: no check
                other = values[out if asks[0] < 0 else ins[asks[0]]].dtype
                if not (identity and prim._d_kernels[j] is None and uniform
                        and np.result_type(values[out].dtype, other) == values[out].dtype):
                    code.append(f"{pad}if r.dtype != g{out}.dtype: r = r.astype(g{out}.dtype)")
                add_term(pad, ins[j], sure)
            continue
        if prim.linear:
            code.append(f"{pad}rs = n{index}.transpose(_xp, g{out})")
        else:
            asks = prim._needs["vjp"]
            saved = [name for a in asks for name in
                     ([f"v{i}" for i in ins] if a == _ALL else
                      [f"v{out}"] if a < 0 else [f"v{ins[a]}" if a < len(ins) else "None"])]
            code.append(f"{pad}rs = n{index}.vjp({', '.join(['_xp', f'g{out}', *saved])})")
        if len(ins) == 1:
            code.append(f"{pad}if type(rs) is not tuple and type(rs) is not list: rs = (rs,)")
        for j, i in enumerate(ins):
            if needs[j]:
                code.append(f"{pad}r = rs[{j}]")
                code.append(f"{pad}if r is not None:")
                code.append(f"{pad}    if r.shape != {shapes[j]!r}: r = _unb(_asarray(r), {shapes[j]!r})")
                add_term(pad + "    ", i, False)
    if plan_steps:
        _drop(code, plan_steps[-1], drop_after.get(len(plan_steps) - 1, ()), leaf_slots, constant)
    for i, leaf in leaves:
        t = arg_of[i] if leaf is None else f"T{i}"
        pad = "" if i in known else "    "
        if i not in known:
            code.append(f"if g{i} is not None:")
        free = f"{t}._grad is None and not {t}._hooks and not {t}._post_acc_hooks"
        seen = "seen" if tracked else "set()"
        if kinds[i] == "new":
            code.append(f"{pad}if {free}: {t}._grad = _T(g{i})")
            code.append(f"{pad}else: _acc({t}, g{i}, {seen})")
        elif kinds[i] == "kept":
            code.append(f"{pad}if {free}: {t}._grad = _T(g{i}.copy())")
            code.append(f"{pad}else: _acc({t}, g{i}.copy(), {seen})")
        else:
            # the common case inline (a new array, a leaf with no grad and no hooks: adopt it)
            code.append(f"{pad}if {free} and type(g{i}) is _ndarray and g{i}.base is None"
                        f" and id(g{i}) not in seen:")
            code.append(f"{pad}    {t}._grad = _T(g{i}); seen.add(id(g{i}))")
            # (a gradient handed out already, or a kept constant term: the leaf gets a copy)
            code.append(f"{pad}elif {free} and type(g{i}) is _ndarray and id(g{i}) in seen:"
                        f" {t}._grad = _T(g{i}.copy())")
            code.append(f"{pad}else: _acc({t}, g{i}, seen)")
    return code, {s for slots in drop_after.values() for s in slots}


def _returns_its_argument(rule) -> bool:
    """Whether an elementwise rule ``rule(xp, v)`` is the identity on its value (probed once
    with a marker: a rule that computes anything fails or returns something else)."""
    marker = object()
    try:
        return rule(ArrayOps, marker) is marker
    except Exception:   # (any error means it computes something)
        return False


def _new_gradients(graph, plan_steps, constant):
    """The slots of a backward plan whose every gradient term is a new array: ḡ·∂y/∂x of an
    elementwise rule (a ufunc's result, or its kernel's, which returns a new array too) of
    an input shaped as the output (no summing over broadcast dims, which may return a view),
    not 0-d (a sum of 0-d arrays is a NumPy scalar). The terms of linear and other rules may
    be their incoming gradient itself; a constant op's are kept from call to call."""
    values, ops = graph.values, graph.instructions
    new, other = set(), set()
    for index, out, ins, needs, shapes in plan_steps:
        fresh = (index not in constant and ops[index].prim.elementwise)
        for i, need, shape in zip(ins, needs, shapes):
            if need:
                (new if fresh and values[out].shape == shape != () else other).add(i)
    return new - other


def _constant_ops(graph, plan_steps, roots):
    """(ops, slots): the linear ops of a backward plan whose incoming gradient is a constant,
    and the slots whose gradient is one. A constant gradient is a sum of terms that all come
    from the seeds (ones, or a tensor from outside the call) through linear ops, whose
    transposes read nothing but the gradient and fixed parameters."""
    values, ops = graph.values, graph.instructions
    sure = {r for r, g in roots if g is None or values[g].kind == "state"}
    mixed = {r for r, _ in roots} - sure
    constant = set()
    for index, out, ins, needs, _ in plan_steps:   # each op after every reader of its output
        op = ops[index]
        if out in sure and out not in mixed and op.prim.linear and not op.array_params:
            constant.add(index)
            sure.update(i for i, need in zip(ins, needs) if need)
        else:
            mixed.update(i for i, need in zip(ins, needs) if need)
    return constant, sure - mixed


def _constant_terms_code(plan_steps, roots, constant, full, read, ns, cache, tracked):
    """Lines computing the constant ops' results once, and again only when a seed tensor from
    outside the call changes (its version or its array): the gradients of the ``full`` slots
    that the rest of the backward reads (a leaf's, an input of an op computed every time), and
    the terms (``K<op>``, one array or None per input, summed back to its shape) that go to
    the other slots. Every kept array goes into ``seen`` (when ``tracked``), so that no leaf
    adopts one as its ``.grad``."""
    ns[cache] = [None, None, None, None]   # key, full slots' gradients, the other terms, ids
    seeds = [g for _, g in roots if g is not None]
    key = " + ".join(f"(T{g}._version_box[0], id(v{g}))" for g in seeds)
    slots = sorted({i for index, _, ins, _, _ in plan_steps if index in constant for i in ins}
                   - {r for r, _ in roots})
    kept = [i for i in slots if i in full and i in read]
    terms = []
    lines = [f"key = {key}", f"if {cache}[0] != key:"] if seeds else [f"if {cache}[0] is None:"]
    lines.append("    " + ("; ".join(f"k{i} = None" for i in slots) or "pass"))
    for r, g in roots:
        lines.append(f"    k{r} = O{r}" if g is None else f"    k{r} = v{g}")
    for index, out, ins, needs, shapes in plan_steps:
        if index not in constant:
            continue
        lines.append(f"    rs = n{index}.transpose(_xp, k{out})")
        lines.append("    if type(rs) is not tuple and type(rs) is not list: rs = (rs,)")
        names = []
        for j, (i, need, shape) in enumerate(zip(ins, needs, shapes)):
            names.append(f"t{index}_{j}" if need and i not in full else "None")
            if not need:
                continue
            lines.append(f"    r = rs[{j}]")
            lines.append(f"    if r is not None and r.shape != {shape!r}: r = _unb(_asarray(r), {shape!r})")
            lines.append(f"    if r is not None: k{i} = r if k{i} is None else k{i} + r")
            if i not in full:
                lines.append(f"    t{index}_{j} = r")
        if any(name != "None" for name in names):
            terms.append(index)
            lines.append(f"    K{index} = ({', '.join(names)},)")
    full_names = "".join(f"k{i}, " for i in kept)
    term_names = "".join(f"K{index}, " for index in terms)
    lines.append(f"    {cache}[1] = ({full_names}); {cache}[2] = ({term_names})")
    lines.append(f"    {cache}[3] = [id(a) for a in ({full_names}*[t for K in {cache}[2] for t in K])"
                 " if a is not None]")
    lines.append(f"    {cache}[0] = {'key' if seeds else 'True'}")
    if kept:
        lines.append(f"{''.join(f'g{i}, ' for i in kept)}= {cache}[1]")
    if terms:
        lines.append(f"{term_names}= {cache}[2]")
    if tracked:
        lines.append(f"seen.update({cache}[3])")
    return lines


def _drop(code, plan_step, values, leaves, constant):
    """After an op's rule: its incoming gradient (not a leaf's, not a kept constant) and the
    forward values read for the last time."""
    index, out = plan_step[:2]
    names = ([] if out in leaves or index in constant else [f"g{out}"]) + [f"v{s}" for s in values]
    if names:
        code.append(f"del {', '.join(names)}")


def _add_to_grad(leaf, g, seen):
    """Accumulate ``g`` into ``leaf.grad`` as the eager engine does, adopting the array (no
    copy) when nothing else holds it: a new array, not handed to another leaf or the caller."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    # a new array, or a C-ordered view (a transposed product's transpose) of an array that
    # nothing but this view holds (the count: the view's reference and getrefcount's argument)
    fresh = id(g) not in seen and (g.base is None or g.flags.c_contiguous and g.base.base is None
                                   and _refcount(g.base) == 2)
    seen.add(id(g))
    if fresh and leaf._grad is None and not leaf._hooks and not leaf._post_acc_hooks:
        leaf._grad = Tensor._make(g)   # what _accumulate does here, without its checks
        return
    if leaf._grad is None and not leaf._hooks and not leaf._post_acc_hooks:
        leaf._grad = Tensor._make(g.copy())   # shared (a view, or handed elsewhere): a copy
        return
    t = Tensor._make(g)
    t._unshared = fresh
    _accumulate(leaf, t, False, adopt=True)


def _output_code(tree, arg_of, program) -> str:
    if isinstance(tree, Value):
        if tree.kind == "state":
            return f"T{tree.index}"
        if tree.kind == "input":
            return arg_of[tree.index]
        if tree.index in program.output_plans:
            return f"_attach(_T(v{tree.index}), {tree.index}, S, N, _program, A)"
        return f"_T(v{tree.index})"
    if isinstance(tree, (tuple, list)):
        inner = ", ".join(_output_code(x, arg_of, program) for x in tree)
        return f"({inner}{',' if len(tree) == 1 else ''})" if isinstance(tree, tuple) else f"[{inner}]"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_output_code(x, arg_of, program)}"
                               for k, x in tree.items()) + "}"
    return repr(tree)


def _input_tensor(program, index, flat_args):
    return flat_args[program.inputs.index(index)]


def _backward_plan(graph, upto, roots):
    """(steps, leaves): the ops before instruction ``upto`` that carry gradient from the leaves
    to ``roots``, last first, as (op index, output slot, input slots, needs_input_grad, input
    shapes); and the leaves reached, as (slot, Tensor or None for an argument)."""
    reach = {r.index for r in roots}
    steps = []
    for ins in reversed(graph.instructions[:upto]):
        if isinstance(ins, Op) and ins.out.requires_grad and ins.out.index in reach:
            needs = tuple(v.requires_grad for v in ins.inputs)
            steps.append((ins.index, ins.out.index, tuple(v.index for v in ins.inputs), needs,
                          tuple(v.shape for v in ins.inputs)))
            reach.update(v.index for v, need in zip(ins.inputs, needs) if need)
    leaves = [(v.index, v.tensor) for v in graph.values
              if v.kind in ("input", "state") and v.requires_grad and v.index in reach]
    return steps, leaves


def _run_plan(plan, seeds, slots, nodes, ops):
    """The chain of VJPs: {slot: gradient array} for every value the plan reaches."""
    grads = dict(seeds)
    for index, out, ins, needs, shapes in plan[0]:
        g = grads.pop(out, None)
        if g is None:
            continue
        node = nodes.get(index)
        if node is None:   # an op whose replay needed no node: its rules need only the class
            node = _new(ops[index].prim._node_type)
        node.inputs = [_Held(slots[i]) for i in ins]
        node._out = slots[out]
        node.needs_input_grad, node.in_shapes = needs, shapes
        for i, r in zip(ins, node.array_vjp(g)):
            if r is not None:
                prev = grads.get(i)
                grads[i] = r if prev is None else prev + r
    return grads


def _with_frees(steps, graph, output_plans, remat):
    """The steps with ``(None, slots)`` inserted where values die: after the last step that
    reads them (an op, a write, an alias, a backward whose rules read an op's inputs and
    output; the backward's reads of ``remat`` values do not count: it rebuilds them).
    Returned values, and those the eager engine's backward of the outputs will read, live
    to the end."""
    last = {}
    for i, (kind, step) in enumerate(steps):
        if kind == _OP:
            if step[4] in remat:   # (dies where it is made if no later op reads it)
                last[step[4]] = i
            for s in (*step[3], *[v.index for v in graph.instructions[step[0]].array_params.values()]):
                last[s] = i
        elif kind in (_WRITE, _ALIAS):
            last[step[1]] = i
        elif kind == _BACKWARD:
            plan, roots = step
            for plan_step in plan[0]:
                for s in _rule_reads(graph, plan_step) - remat.keys():
                    last[s] = i
            for r, g in roots:
                last[r] = i
                if g is not None:
                    last[g] = i
    forever = {v.index for v in graph.output_values()}
    forever.update(s for plan in output_plans for _, out, ins, _, _ in plan[0] for s in (out, *ins))
    frees = {}
    for s, i in last.items():
        if s not in forever:
            frees.setdefault(i, []).append(s)
    out = []
    for i, step in enumerate(steps):
        out.append(step)
        if i in frees:
            out.append((None, tuple(frees[i])))
    return out


def _rematerialized(graph, steps) -> dict:
    """The ReLU outputs the backward rebuilds instead of keeping them from the forward:
    {slot of y = relu(batch_norm(x)): (batch norm's op index, slot of x)}.

    A training-mode batch norm's backward reads its input x, so x stays alive until then
    anyway; y is read by the backward too (ReLU's rule, the next layer's weight gradient), and
    in a CNN these pairs are most of what a step holds at the end of its forward. Rebuilding
    y from x (``BatchNormTrain.recompute``: the forward's own kernels and coefficients, so the
    same bits) costs two or three passes over it in the backward and frees it between its
    last forward use and the backward (resnet20's step: ~10 of its ~19 activations of that
    kind; what torch.compile's partitioner does by recomputing cheap pointwise ops). Taken
    when the graph runs one backward of its own, the batch norm's output feeds nothing but
    the ReLU, and y is no output, view, alias or written value and read by no op after the
    backward; a forward that leaves no recipe (``BatchNormTrain.recompute``) keeps y as
    before, decided at each run."""
    backward = [i for i, (kind, _) in enumerate(steps) if kind == _BACKWARD]
    if len(backward) != 1:
        return {}
    (plan, _), _ = steps[backward[0]][1]
    reads = set().union(*(_rule_reads(graph, plan_step) for plan_step in plan))
    ops = [s for kind, s in steps[:backward[0]] if kind == _OP]
    later = {s for kind, step in steps[backward[0] + 1:] if kind == _OP for s in step[3]}
    producer = {out: (index, prim, ins) for index, prim, _, ins, out in ops}
    uses = {}
    for ins in graph.instructions:
        for v in passes.reads(ins):
            uses[v.index] = uses.get(v.index, 0) + 1
    shared = {v.index for v in graph.output_values()}
    for ins in graph.instructions:
        if isinstance(ins, Op) and ins.views:
            shared.update(v.index for v in ins.inputs)
            shared.add(ins.out.index)
        elif isinstance(ins, Value) and ins.kind == "alias":
            shared.add(ins.source.index)
        elif isinstance(ins, Write):
            shared.update((ins.target.index, ins.value.index))
    remat = {}
    for index, prim, _, ins, out in ops:
        made = producer.get(ins[0]) if prim in (Relu, ReluInPlace) else None
        if made is None or made[1] is not BatchNormTrain or out not in reads \
                or made[2][0] not in reads or uses.get(ins[0]) != 1 \
                or shared & {out, ins[0]} or out in later:
            continue
        remat[out] = (made[0], made[2][0])
    return remat


def _rule_reads(graph, plan_step) -> set:
    """The slots op ``plan_step``'s backward rule reads (the values it asks for by name)."""
    index, out, ins, needs, _ = plan_step
    prim = graph.instructions[index].prim
    if prim.elementwise:
        asks = [a for (_, a), need in zip(prim._d_specs, needs) if need for a in a]
    elif prim.linear:
        return set()
    else:
        asks = prim._needs["vjp"]
    slots = set()
    for a in asks:
        slots.update(ins if a == _ALL else (out,) if a < 0 else (ins[a],) if a < len(ins) else ())
    return slots


class CompiledFunctionBackward(Node):
    """The node of a compiled call's output (torch's name): its VJP runs the captured graph's
    backward plan, and the eager engine carries the gradients on into the leaves."""

    def _vjp(self, xp, g):
        if xp.recording:
            raise RuntimeError("CompiledFunctionBackward: a compiled graph's backward cannot be "
                               "differentiated again (create_graph=True); run the model eagerly")
        if self._slots is None:
            raise RuntimeError("Trying to backward through the graph a second time (in "
                               "CompiledFunctionBackward): its saved values were freed after the "
                               "first backward. Pass retain_graph=True to the first backward().")
        grads = _run_plan(self._plan, {self._root: g}, self._slots, self._nodes,
                          self._ops)
        return [grads.get(i) for i, _ in self._plan[1]]

    def _release(self):
        super()._release()
        self._slots = self._nodes = None


def _attach_backward(t, root, slots, nodes, program, flat_args):
    """Give an output Tensor a CompiledFunctionBackward node (when grad mode is on)."""
    if not STATE.grad_enabled:
        return t
    plan = program.output_plans[root]
    node = _new(CompiledFunctionBackward)
    leaves = [leaf if leaf is not None else _input_tensor(program, i, flat_args)
              for i, leaf in plan[1]]
    node._plan, node._root, node._slots, node._nodes = plan, root, slots, nodes
    node._ops = program.graph.instructions
    node.needs_input_grad = (True,) * len(leaves)
    node._next = tuple(t.grad_fn or _edge(t) for t in leaves)
    node.in_shapes = tuple(t._data.shape for t in leaves)
    node.sequence_nr = next(_sequence)
    node.out_shape = t._data.shape
    t._requires_grad = True
    t.grad_fn = node
    return t


_INPLACE_FORM.update({Add: (np.add, ""), Sub: (np.subtract, ""), Relu: (Relu.forward, "")})

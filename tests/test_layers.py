"""The shape of the code: imports point one way, importing chainrule changes nothing outside it,
and every primitive declares its derivative in one form only.

* The import graph of ``chainrule``'s modules (every ``import`` statement, at module level or
  inside a function) has no cycle, and the modules below the Tensor class never import it.
* In a fresh interpreter, the modules import one by one in dependency order, lowest first,
  so no module relies on a partly initialised one.
"""
from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from chainrule._graph import Node

SRC = Path(chainrule.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _imports(name: str, path: Path, modules) -> set:
    """The chainrule modules ``name`` imports (module level and inside functions alike)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the submodule pkg.sub when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:      # `import chainrule.nn.functional as F` and such
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("chainrule"):
                found.add(t)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _order(graph):
    """Modules in dependency order (each after what it imports), or the cycle that prevents it.
    The top package ``chainrule`` imports everything, and everything is imported through it, so
    an edge to it is not a dependency."""
    order, state = [], {}

    def visit(m, stack):
        if state.get(m) == "done":
            return
        if state.get(m) == "open":
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
        state[m] = "open"
        for dep in sorted(graph[m] - {"chainrule"}):
            visit(dep, stack + [dep])
        state[m] = "done"
        order.append(m)

    for m in sorted(graph):
        visit(m, [m])
    return order


def test_no_module_imports_in_a_cycle():
    _order(_graph())


def test_the_layers_below_the_tensor_never_import_it():
    graph = _graph()
    below = ["chainrule._modes", "chainrule._rng", "chainrule._mathfun", "chainrule._sampling",
             "chainrule._dtype",
             "chainrule._tensor_base", "chainrule._graph", "chainrule._backprop"]
    below += [m for m in graph if m.startswith(("chainrule.ops", "chainrule.backends"))]

    def reaches(start, target, seen=()):
        return start == target or any(reaches(d, target, seen + (start,))
                                      for d in graph[start] - {"chainrule"} if d not in seen)

    for m in below:
        assert not reaches(m, "chainrule.tensor") or m == "chainrule.tensor", m
    assert graph["chainrule._modes"] == set(), "the mode switches are a leaf"
    assert graph["chainrule._rng"] == set(), "the default random stream is a leaf"
    assert graph["chainrule._mathfun"] == set(), "the sampling arithmetic is a leaf"
    assert graph["chainrule._sampling"] <= {"chainrule._rng", "chainrule._mathfun"}


def _on_top_package(graph):
    """Modules that use the whole package (``import chainrule as cr``), and what imports them:
    they sit above everything, where only what a person runs should be."""
    top = {m for m, deps in graph.items() if "chainrule" in deps}
    grew = True
    while grew:
        more = {m for m, deps in graph.items() if deps & top} - top
        top |= more
        grew = bool(more)
    return top


def test_modules_import_one_by_one_in_dependency_order_in_a_fresh_interpreter():
    graph = _graph()
    top = _on_top_package(graph)
    assert all(m.split(".")[1] in ("demos", "cli", "examples", "__main__") for m in top), sorted(top)
    order = [m for m in _order(graph) if m != "chainrule" and m not in top]
    assert "chainrule.tensor" in order and "chainrule.train.trainer" in order
    # chainrule/__init__ imports the whole package; bypass it, so that each module is loaded by
    # its own imports (and its packages'), one at a time, lowest first
    script = f"""
import importlib, json, sys, types
pkg = types.ModuleType("chainrule"); pkg.__path__ = [{str(SRC)!r}]; sys.modules["chainrule"] = pkg
for name in json.loads({json.dumps(json.dumps(order))}):
    importlib.import_module(name)
print("ok")
"""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC.parent), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]


# ---------------------------------------------------------------------------- declared rules
def _primitives():
    found, stack = [], [Node]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if "forward" in vars(sub) or any(k in vars(sub) for k in ("vjp", "transpose")):
                found.append(sub)
    return found


def test_every_primitive_declares_its_derivative_in_exactly_one_form():
    prims = [p for p in _primitives() if p.__module__.startswith("chainrule.")
             and p.__name__ != "_CustomNode"]
    assert len(prims) > 50
    for p in prims:
        rules = {k for k in dir(p) if k in ("vjp", "jvp", "transpose", "backward")
                 or k.startswith("d_")}
        if not p.differentiable:
            # declared without a derivative (a comparison, a cast; never recorded for autograd)
            assert rules == set() and not (p.elementwise or p.linear), (p, rules)
        elif p.elementwise:
            # the local derivative per input and nothing else: the engine forms ḡ·f′ and ṫ·f′
            assert rules == {f"d_{n}" for n in p._input_names}, (p, rules)
            assert not p.linear, p
        elif p.linear:
            # linear: JVP = the op on the tangent; only the transpose (the VJP) is written
            assert rules == {"transpose"}, (p, rules)
        else:
            assert rules == {"vjp", "jvp"}, (p, rules)


def test_rules_name_only_values_the_node_can_save():
    for p in _primitives():
        for rule, asked in p._needs.items():
            params = list(inspect.signature(getattr(p, rule)).parameters)
            assert all(i == -1 or (i == "*" and p._variadic) or 0 <= i < len(p._input_names)
                       for i in asked), (p, rule, params)


def test_a_primitive_rejects_undeclared_parameters():
    from chainrule.ops.shape import Reshape
    with pytest.raises(TypeError, match=r"Reshape: unexpected parameters \['shap'\]; it takes \['shape'\]"):
        Reshape.apply(chainrule.zeros(2, 3), shap=(3, 2))


def test_distributed_sits_above_nn_and_optim_and_below_the_ml_flow():
    """chainrule.distributed (MPI data parallelism) may use the engine, nn and optim; nothing
    there may use it, and it uses nothing of the flow around a model (train, datasets, ...)."""
    graph = _graph()

    def reached(start):
        seen, stack = set(), [start]
        while stack:
            for d in graph[stack.pop()] - {"chainrule"} - seen:
                seen.add(d)
                stack.append(d)
        return seen

    # torch's DistributedDataParallel and SyncBatchNorm live in torch.nn and call
    # torch.distributed; here they import chainrule.distributed inside functions only (never at
    # module level, so importing chainrule.nn does not import it), and only these modules do
    lazy = {"chainrule.nn.parallel.distributed", "chainrule.nn.modules._functions",
            "chainrule.nn.modules.sync_batchnorm"}
    modules = _modules()
    for m in lazy:
        tree = ast.parse(modules[m].read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not any("distributed" in ast.dump(n) for n in top), m
        graph[m] = graph[m] - {"chainrule.distributed"}
    below = ("chainrule._", "chainrule.tensor", "chainrule.creation", "chainrule.ops",
             "chainrule.backends", "chainrule.autograd", "chainrule.func", "chainrule.nn",
             "chainrule.optim", "chainrule.models")
    above = ("chainrule.train", "chainrule.cli", "chainrule.demos", "chainrule.datasets",
             "chainrule.vision", "chainrule.metrics", "chainrule.viz", "chainrule.examples")
    dist = [m for m in graph if m == "chainrule.distributed" or
            m.startswith("chainrule.distributed.")]
    assert len(dist) >= 3
    for m in graph:
        if m.startswith(below):
            assert not any(d in dist for d in reached(m)), m
    for m in dist:
        assert not any(d.startswith(above) for d in reached(m)), (m, sorted(reached(m)))

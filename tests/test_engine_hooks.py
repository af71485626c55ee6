"""Tensor.register_post_accumulate_grad_hook and the engine's queue_callback, against torch."""
import numpy as np
import pytest
import torch

import chainrule as cr

def _run(lib, backward):
    """The same program in chainrule and torch; returns the log of what the hooks saw."""
    log = []
    w = lib.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    u = lib.tensor(np.array([0.5, 0.25, 2.0]), requires_grad=True)
    w.register_hook(lambda g: log.append(("pre", g.tolist())))
    w.register_post_accumulate_grad_hook(lambda p: log.append(("post-w", p.grad.tolist())))
    u.register_post_accumulate_grad_hook(lambda p: log.append(("post-u", p.grad.tolist())))
    backward(lib, w, u)
    return log, w, u


@pytest.mark.parametrize("kind", ["backward", "twice", "inputs", "grad"])
def test_post_accumulate_grad_hook_matches_torch(kind):
    def backward(lib, w, u):
        loss = ((w * w) * u).sum() + w.sum()
        if kind == "backward":
            loss.backward()
        elif kind == "twice":
            loss.backward(retain_graph=True)
            loss.backward()
        elif kind == "inputs":
            loss.backward(inputs=[w])
        else:
            lib.autograd.grad(loss, [w, u])
    ours, w1, u1 = _run(cr, backward)
    theirs, w2, u2 = _run(torch, backward)
    if kind in ("inputs", "grad"):   # (leaf gradient hooks there: not yet in chainrule)
        theirs = [e for e in theirs if e[0] != "pre"]
    assert sorted(map(repr, ours)) == sorted(map(repr, theirs))
    # the hook comes after the gradient hook and sees the accumulated .grad
    assert [e for e in ours if e[0] != "post-u"] == [e for e in theirs if e[0] != "post-u"]


def test_post_accumulate_hook_may_change_grad_in_place_and_be_removed():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    def times_ten(p):
        p.grad.mul_(10)
    h = w.register_post_accumulate_grad_hook(times_ten)
    (w * 3).sum().backward()
    assert w.grad.tolist() == [30.0, 30.0]
    h.remove()
    (w * 3).sum().backward()
    assert w.grad.tolist() == [33.0, 33.0]


def test_post_accumulate_hook_errors_as_torch():
    with pytest.raises(RuntimeError, match="non-leaf"):
        (cr.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (torch.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    for lib in (cr, torch):
        w = lib.ones(2, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda p: 5)
        with pytest.raises(TypeError):
            (w * 2).sum().backward()
        v = lib.ones(2, requires_grad=True)
        v.register_post_accumulate_grad_hook(lambda p: p.grad * 2)
        with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
            (v * 2).sum().backward()


@pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])
def test_queue_callback_runs_after_every_gradient_is_accumulated(lib):
    engine = lib.autograd.Variable._execution_engine
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass"):
        engine.queue_callback(lambda: None)
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0], requires_grad=True)
    log = []

    def second():
        log.append("second")

    def first():
        log.append(("first", a.grad.tolist(), b.grad.tolist()))
        engine.queue_callback(second)          # queued from a callback: runs after it

    def hook(p):
        log.append("post-a")
        engine.queue_callback(first)
    a.register_post_accumulate_grad_hook(hook)
    ((a * b).sum() * b.sum()).backward()
    assert log == ["post-a", ("first", [9.0, 9.0], [18.0]), "second"]
    log.clear()
    ((a * b).sum() * b.sum()).backward()       # each pass has its own queue
    assert log == ["post-a", ("first", [18.0, 18.0], [36.0]), "second"]


@pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])
def test_a_callback_queued_by_a_post_accumulate_hook_under_backward_inputs(lib):
    engine = lib.autograd.Variable._execution_engine
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    log = []
    w.register_post_accumulate_grad_hook(
        lambda p: engine.queue_callback(lambda: log.append(p.grad.tolist())))
    (w * w).sum().backward(inputs=[w])
    assert log == [[2.0, 4.0]]

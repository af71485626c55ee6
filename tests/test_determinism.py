"""use_deterministic_algorithms(True): the same weights whatever the thread count.

By default the convolution kernels size their chunks of images by the thread count, so the
weight gradient's sum over a batch is grouped differently at 1 and 2 threads (resnet20's
weights differ by ~5e-4 after three steps); the deterministic mode fixes the grouping.
"""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backends import cpu


@pytest.fixture
def deterministic():
    before = cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(True)
    yield
    cr.use_deterministic_algorithms(before)


def train(build, shape, threads, steps=2):
    with cpu.tuned():
        cr.set_num_threads(threads)
        cr.manual_seed(0)
        model = build()
        opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        rng = np.random.default_rng(0)
        for _ in range(steps):
            x = cr.tensor(rng.standard_normal(shape).astype(np.float32))
            y = cr.tensor(rng.integers(0, 10, shape[0]))
            opt.zero_grad()
            cr.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("build, shape", [(cr.models.LeNet5, (32, 1, 28, 28)),
                                          (cr.models.resnet20, (12, 3, 32, 32))],
                         ids=["lenet5", "resnet20"])
def test_weights_are_identical_at_one_and_two_threads(deterministic, build, shape):
    one, two = train(build, shape, 1), train(build, shape, 2)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_the_switch_and_its_checks():
    assert cr.are_deterministic_algorithms_enabled() is False   # the default
    cr.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert cr.are_deterministic_algorithms_enabled()
        assert cr.is_deterministic_algorithms_warn_only_enabled()
    finally:
        cr.use_deterministic_algorithms(False)
    assert not cr.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError, match="mode must be a bool"):
        cr.use_deterministic_algorithms("yes")


def test_deterministic_mode_leaves_onednn_out(deterministic, monkeypatch):
    """Its products and convolutions run on NumPy's BLAS, so its elementwise passes do too (not
    oneDNN's OpenMP threads beside the BLAS's pool): no oneDNN primitive runs in a step."""
    from chainrule.backends import onednn
    if not onednn.is_available():
        pytest.skip("the onednn extra is not installed")
    ran = []
    real = onednn._Plan.run
    monkeypatch.setattr(onednn._Plan, "run", lambda self, arrays: ran.append(self) or real(self, arrays))
    train(cr.models.LeNet5, (32, 1, 28, 28), 2, steps=1)
    assert not onednn.elementwise_supported(np.ones((64, 32, 32), np.float32))
    assert ran == []
    cr.use_deterministic_algorithms(False)
    train(cr.models.LeNet5, (32, 1, 28, 28), 2, steps=1)
    assert ran      # the same step outside the mode: convolutions, pooling, ReLU on oneDNN

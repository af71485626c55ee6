"""Counting calls to a module's functions in a test (which kernels a step took)."""


def record_calls(monkeypatch, module, names):
    """Wrap ``module``'s functions ``names`` so that each call appends its name to the list
    returned (undone by ``monkeypatch`` at the test's end)."""
    seen = []
    for name in names:
        real = getattr(module, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen.append(_name)
            return _real(*args, **kwargs)
        monkeypatch.setattr(module, name, spy)
    return seen

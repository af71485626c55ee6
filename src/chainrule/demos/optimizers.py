"""SGD, SGD with momentum, Adagrad, RMSprop and Adam on a convex bowl and a non-convex surface
(cards "Convex / Non-Convex Optimization Surface", "Adaptive Heuristic Optimizers", "SGD with
Momentum", "Adagrad" and its drawback, "RMSprop", "Adam").

Each optimizer from ``chainrule.optim`` moves one parameter θ = (x, y) for a fixed number of steps:

* convex bowl     f(x, y) = ½(x² + 10 y²) — an elongated valley: the only minimum is global;
* non-convex      f(x, y) = (x² − 1)² + ½y² + 0.3x − ½ cos(3y) … a double well in x (a local
                  minimum near x = +1, the global one near x = −1, a saddle between) plus
                  ripples in y.

Measured: the loss reached, the steps each needs to get within 10⁻³ of the bowl's minimum, the
basin each ends in on the non-convex surface, and Adagrad's shrinking step size Δθ_t (its
drawback: s_t = Σ g_t² only grows, so the effective rate η/√s_t only falls).
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.optim  # noqa: F401  (cr.optim)

from ._common import report, subplots

OPTIMIZERS = {
    # name: (constructor, kwargs) — learning rates are each method's usual ones
    "SGD": ("SGD", {"lr": 0.02}),
    "momentum": ("SGD", {"lr": 0.02, "momentum": 0.9}),
    "Adagrad": ("Adagrad", {"lr": 0.5}),
    "RMSprop": ("RMSprop", {"lr": 0.05}),
    "Adam": ("Adam", {"lr": 0.1}),
}


def bowl(p):
    """f(x, y) = ½(x² + 10y²): convex, minimum 0 at the origin."""
    x, y = p[0], p[1]
    return 0.5 * (x * x + 10.0 * y * y)


def wavy(p):
    """f(x, y) = (x² − 1)² + 0.3x + ½y² − ½cos(3y): non-convex, local minimum near (0.96, 0),
    global minimum near (−1.04, 0), a saddle near (0.08, 0)."""
    x, y = p[0], p[1]
    return (x * x - 1.0) ** 2 + 0.3 * x + 0.5 * y * y - 0.5 * (3.0 * y).cos()


def _surface_np(fn, X, Y):
    P = cr.tensor(np.stack([X, Y]).astype(np.float32))
    with cr.no_grad():
        return fn(P).numpy()


def trajectory(fn, start, name, steps):
    """Run optimizer ``name`` on ``fn`` from ``start``; return the path (steps+1, 2) and losses."""
    cls, kw = OPTIMIZERS[name]
    p = cr.tensor(np.array(start, dtype=np.float32), requires_grad=True)
    opt = getattr(cr.optim, cls)([p], **kw)
    path, losses = [p.detach().numpy().copy()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = fn(p)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        path.append(p.detach().numpy().copy())
    with cr.no_grad():
        losses.append(fn(p).item())
    return np.array(path), np.array(losses)


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    steps = 150 if fast else 300
    starts = {"bowl": (-4.0, 1.5), "wavy": (1.8, 1.2)}
    surfaces = {"bowl": bowl, "wavy": wavy}
    paths = {s: {} for s in surfaces}
    losses = {s: {} for s in surfaces}
    for s, fn in surfaces.items():
        for name in OPTIMIZERS:
            paths[s][name], losses[s][name] = trajectory(fn, starts[s], name, steps)

    steps_to_tol = {}
    for name, L in losses["bowl"].items():
        hit = np.nonzero(L < 1e-3)[0]
        steps_to_tol[name] = int(hit[0]) if hit.size else None
    final_bowl = {n: float(L[-1]) for n, L in losses["bowl"].items()}
    final_wavy = {n: float(L[-1]) for n, L in losses["wavy"].items()}
    basin = {n: ("global" if P[-1, 0] < 0 else "local") for n, P in paths["wavy"].items()}
    step_len = np.linalg.norm(np.diff(paths["bowl"]["Adagrad"], axis=0), axis=1)
    adagrad_shrink = float(step_len[:5].mean() / max(step_len[-5:].mean(), 1e-30))

    fig, axes = subplots(1, 2, figsize=(11, 4.5))
    for ax, (s, fn) in zip(axes, surfaces.items()):
        lim = (-4.5, 4.5, -2.0, 2.0) if s == "bowl" else (-2.0, 2.2, -1.6, 1.6)
        X, Y = np.meshgrid(np.linspace(lim[0], lim[1], 160), np.linspace(lim[2], lim[3], 120))
        ax.contour(X, Y, _surface_np(fn, X, Y), levels=30, cmap="Greys", linewidths=0.6)
        for name, P in paths[s].items():
            ax.plot(P[:, 0], P[:, 1], ".-", ms=2, lw=1, label=name)
        ax.plot(*starts[s], "k*", ms=10)
        ax.set_title("convex bowl ½(x²+10y²)" if s == "bowl" else "non-convex: saddle, two minima")
        ax.set_xlim(lim[0], lim[1]), ax.set_ylim(lim[2], lim[3])
    axes[0].legend(fontsize=8)

    tol = ", ".join(f"{n} {k if k is not None else f'>{steps}'}" for n, k in steps_to_tol.items())
    finding = (f"optimizers: steps to f < 1e-3 on the convex bowl: {tol}; on the non-convex "
               f"surface {sum(b == 'global' for b in basin.values())}/5 reach the global minimum "
               f"({', '.join(n for n, b in basin.items() if b == 'global') or 'none'}); "
               f"Adagrad's step shrank {adagrad_shrink:.0f}x")
    return report({"steps": steps, "steps_to_1e-3": steps_to_tol, "final_bowl": final_bowl,
                   "final_wavy": final_wavy, "wavy_basin": basin,
                   "adagrad_step_shrink": adagrad_shrink}, finding, fig, out_dir, "optimizers")

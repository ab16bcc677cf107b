"""Paths of SGD, momentum, Adagrad, RMSprop and Adam over two 2-D loss surfaces.

The parameter is one minidl Tensor p = (x, y); each step evaluates the loss
with minidl ops, backpropagates, and lets the optimizer update p.

    ravine       f(x, y) = x^2 / 20 + 5 y^2           minimum (0, 0)
    Rosenbrock   f(x, y) = (1 - x)^2 + 100 (y - x^2)^2  minimum (1, 1)

Both have a valley that is steep across and shallow along. A learning rate
large enough to move along the floor makes SGD bounce from wall to wall
(the curvature across the ravine is 10, so SGD's lr = 0.18 multiplies y by
1 - 0.18 * 10 = -0.8 each step). RMSprop divides each coordinate's step by
the root mean square of its recent gradients, so steep and shallow
directions get steps of the same size and the bouncing is damped.

Oscillation is measured as the zig-zag ratio: the total distance travelled
across the valley, sum_t |c_{t+1} - c_t|, over the distance needed, |c_0|,
where c is the across-valley coordinate (y on the ravine, y - x^2 on the
Rosenbrock valley, both 0 on the floor). 1 means straight down to the floor.
On Rosenbrock's long curved floor RMSprop's steps stay about lr in size, so it
rattles across the floor at a small amplitude (a large zig-zag); Adam's
momentum averages that out, and reaches (1, 1) first. The script checks these
three claims on its runs. The plot gives each optimizer its own colour, line
style and marker (a large one where its path ends; a star at the minimum), and
draws Rosenbrock's paths, which share one narrow valley, one small panel each.

    python examples/trajectories.py [--steps-scale 1.0] [--out examples/out]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import minidl
from common import parser, pyplot, save_figure, table, verdict
from minidl.optim import SGD, Adagrad, Adam, RMSprop

MakeOptimizer = Callable[[list], Any]


@dataclass(frozen=True)
class Surface:
    """A 2-D loss, where to start, and the optimizers' settings on it."""
    name: str
    loss: Callable[[Any, Any], Any]     # f(x, y) on Tensors or numpy arrays
    across: Callable[[np.ndarray, np.ndarray], np.ndarray]  # 0 on the valley floor
    start: tuple[float, float]
    minimum: tuple[float, float]
    steps: int
    view: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    optimizers: dict[str, tuple[str, MakeOptimizer]]


SURFACES = [
    Surface("ravine", lambda x, y: x ** 2 / 20 + 5 * y ** 2, lambda x, y: y,
            start=(-9.0, 1.0), minimum=(0.0, 0.0), steps=100, view=(-10, 2, -1.5, 1.5), optimizers={
                "SGD": ("lr=0.18", lambda p: SGD(p, lr=0.18)),
                "momentum": ("lr=0.02, momentum=0.9", lambda p: SGD(p, lr=0.02, momentum=0.9)),
                "Adagrad": ("lr=1.0", lambda p: Adagrad(p, lr=1.0)),
                "RMSprop": ("lr=0.1", lambda p: RMSprop(p, lr=0.1)),
                "Adam": ("lr=0.3", lambda p: Adam(p, lr=0.3)),
            }),
    Surface("Rosenbrock", lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
            lambda x, y: y - x ** 2, start=(-1.5, 2.0), minimum=(1.0, 1.0), steps=2000,
            view=(-2, 2, -1, 3), optimizers={
                "SGD": ("lr=1e-3", lambda p: SGD(p, lr=1e-3)),
                "momentum": ("lr=1e-4, momentum=0.9", lambda p: SGD(p, lr=1e-4, momentum=0.9)),
                "Adagrad": ("lr=0.5", lambda p: Adagrad(p, lr=0.5)),
                "RMSprop": ("lr=3e-3", lambda p: RMSprop(p, lr=3e-3)),
                "Adam": ("lr=0.02", lambda p: Adam(p, lr=0.02)),
            }),
]


def descend(surface: Surface, make_optimizer: MakeOptimizer, steps: int) -> np.ndarray:
    """The points p_0, ..., p_steps visited by the optimizer, shape (steps + 1, 2)."""
    point = minidl.tensor(surface.start, requires_grad=True)
    optimizer = make_optimizer([point])
    path = [point.numpy().copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        surface.loss(point[0], point[1]).backward()
        optimizer.step()
        path.append(point.numpy().copy())
    return np.array(path)


def zigzag(surface: Surface, path: np.ndarray) -> float:
    """sum_t |c_{t+1} - c_t| / |c_0| for the across-valley coordinate c."""
    across = surface.across(path[:, 0].astype(np.float64), path[:, 1].astype(np.float64))
    return float(np.abs(np.diff(across)).sum() / abs(across[0]))


def distance_to_minimum(surface: Surface, path: np.ndarray) -> float:
    """|p_last - p_min|: how far from the minimum the path ends."""
    return float(np.linalg.norm(path[-1].astype(np.float64) - surface.minimum))


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--steps-scale", type=float, default=1.0,
                           help="multiply each surface's number of steps (default 1.0)")
    args = arguments.parse_args()
    plt = pyplot()
    rows, paths, zigzags = [], {}, {}
    for surface in SURFACES:
        steps = max(1, round(surface.steps * args.steps_scale))
        for name, (settings, make_optimizer) in surface.optimizers.items():
            path = paths[surface.name, name] = descend(surface, make_optimizer, steps)
            zigzags[surface.name, name] = zigzag(surface, path)
            x, y = (float(value) for value in path[-1])
            rows.append([surface.name, name, settings, steps, f"({x:.3f}, {y:.3f})",
                         float(surface.loss(x, y)), zigzags[surface.name, name]])
    print(table(["surface", "optimizer", "settings", "steps", "final point", "loss",
                 "zig-zag"], rows))
    ravine, rosenbrock = SURFACES
    sgd, rmsprop = zigzags[ravine.name, "SGD"], zigzags[ravine.name, "RMSprop"]
    print(f"RMSprop damps the oscillation across the ravine: zig-zag {rmsprop:.2f} vs "
          f"SGD's {sgd:.2f} ({verdict(rmsprop < sgd / 2)})")
    rmsprop, adam = zigzags[rosenbrock.name, "RMSprop"], zigzags[rosenbrock.name, "Adam"]
    print(f"On the Rosenbrock floor RMSprop rattles and Adam's momentum averages it out: zig-zag "
          f"{rmsprop:.2f} vs Adam's {adam:.2f} ({verdict(adam < rmsprop)})")
    distances = {name: distance_to_minimum(rosenbrock, paths[rosenbrock.name, name])
                 for name in rosenbrock.optimizers}
    nearest, runner_up = sorted(distances, key=distances.get)[:2]
    print(f"Adam ends nearest the Rosenbrock minimum (1, 1): {nearest} at distance "
          f"{distances[nearest]:.3g}, then {runner_up} at {distances[runner_up]:.3g} "
          f"({verdict(nearest == 'Adam')})")
    if plt is None:
        return
    figure = plt.figure(figsize=(20, 9), layout="constrained")
    grid = figure.add_gridspec(2, len(rosenbrock.optimizers))
    ravine_axis = figure.add_subplot(grid[0, :2])
    draw_paths(ravine_axis, ravine, paths, ravine.optimizers)
    loss_axis = figure.add_subplot(grid[0, 2:])
    for name in rosenbrock.optimizers:
        path = paths[rosenbrock.name, name].astype(np.float64)
        marks = np.unique(np.geomspace(1, len(path) - 1, 12).astype(int))   # even on symlog
        loss_axis.plot(rosenbrock.loss(path[:, 0], path[:, 1]), label=name, markevery=marks,
                       **style(name))
    loss_axis.set(xscale="symlog", yscale="log", xlabel="step (symlog)", ylabel="f(x, y) (log)",
                  title=f"{rosenbrock.name}: loss")
    loss_axis.legend()
    # Rosenbrock's paths share one narrow valley: one small panel each, the others grey.
    for i, name in enumerate(rosenbrock.optimizers):
        axis = figure.add_subplot(grid[1, i])
        others = [other for other in rosenbrock.optimizers if other != name]
        for other in others:
            path = paths[rosenbrock.name, other]
            axis.plot(path[:, 0], path[:, 1], color="0.8", linewidth=0.8)
        draw_paths(axis, rosenbrock, paths, [name])
        axis.set_title(f"{rosenbrock.name}: {name} (others grey)")
    save_figure(figure, args.out, "trajectories.png")


STYLES = {"SGD": ("-", "o"), "momentum": ("--", "s"), "Adagrad": (":", "^"),
          "RMSprop": ("-.", "D"), "Adam": ((0, (6, 2)), "v")}


def style(name: str) -> dict[str, Any]:
    """Each optimizer's colour, line style and marker, the same in every panel."""
    index = list(STYLES).index(name) if name in STYLES else len(STYLES)
    line, marker = STYLES.get(name, ("-", "x"))
    return {"color": f"C{index}", "linestyle": line, "marker": marker}


def draw_paths(axis: Any, surface: Surface, paths: dict, names: Any) -> None:
    """The contours of ``surface`` and the paths of ``names``: a marker every tenth of
    the path, a larger one where it ends, a star at the minimum."""
    x_min, x_max, y_min, y_max = surface.view
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, 300), np.linspace(y_min, y_max, 300))
    heights = surface.loss(xs, ys)
    axis.contour(xs, ys, heights, levels=np.geomspace(heights.min() + 1e-3, heights.max(), 25),
                 cmap="Greys", linewidths=0.7)
    for name in names:
        path = paths[surface.name, name]
        look = style(name)
        axis.plot(path[:, 0], path[:, 1], linewidth=1.2, markersize=4,
                  markevery=max(1, len(path) // 10), label=name, **look)
        axis.plot(*path[-1], look["marker"], color=look["color"], markersize=9,
                  markeredgecolor="k")
    axis.plot(*surface.minimum, "k*", markersize=12, label="minimum")
    axis.set(xlim=(x_min, x_max), ylim=(y_min, y_max), xlabel="x", ylabel="y",
             title=f"{surface.name}: paths")
    axis.legend(loc="upper right", fontsize="small")


if __name__ == "__main__":
    main()

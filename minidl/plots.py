"""Training curves as a PNG (``minidl train --plot``); needs matplotlib.

``training_curves`` draws the loss and a metric per epoch, training and
validation, and, given an ``OptimizerStats`` history, beside them what the
optimizer did to each layer: the gradient norm, the update to weight ratio and
the effective learning rate (median, with the band between the lowest and the
highest recorded quantile).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["training_curves", "integer_epochs"]


def integer_epochs(axes: Any) -> None:
    """Epoch axes get whole-number ticks only (also for a single epoch, where the
    default of two ticks at least would fall between whole numbers)."""
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def training_curves(history: Mapping[str, Sequence[float]], path: str, metric: str,
                    stats: Any = None, first_epoch: int = 1) -> None:
    """Save loss and ``metric`` curves (and ``stats``' per-layer panels) to ``path``.

    ``history``: ``{"loss": [...], "val_loss": [...], metric: [...], ...}``.
    ``stats``: an ``OptimizerStats`` history (or its dict) whose first epoch is
    ``first_epoch`` (later than 1 when a run was resumed).
    """
    from matplotlib.figure import Figure

    stats = dict(getattr(stats, "history", stats) or {})
    layers = sorted({key.rsplit(".", 1)[0] for key in stats if key.endswith(".grad_norm")})
    if layers:
        figure = Figure(figsize=(15, 8), layout="constrained")
        panels = figure.subplot_mosaic([["loss", "metric", "ratio"], ["grad", "lr", "lr"]])
    else:
        figure = Figure(figsize=(10, 4), layout="constrained")
        panels = dict(zip(("loss", "metric"), figure.subplots(1, 2)))
    for panel, key in (("loss", "loss"), ("metric", metric)):
        axes = panels[panel]
        for name, label in ((key, "train"), (f"val_{key}", "test")):
            values = history.get(name, [])
            axes.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
        axes.set(xlabel="epoch", ylabel=key, title=key)
    if layers:
        _layer_panels(panels, stats, layers, first_epoch)
    for name, axes in panels.items():
        integer_epochs(axes)
        if not axes.axison:   # the lr panel of an optimizer without a rule
            continue
        # The lr bands fill their panel: a legend inside would hide them.
        outside = {"loc": "upper left", "bbox_to_anchor": (1, 1)} if name == "lr" else {}
        axes.legend(fontsize="small", **outside)
    figure.savefig(path, dpi=100)


def _layer_panels(panels: Mapping[str, Any], stats: Mapping[str, Sequence[float]],
                  layers: list[str], first_epoch: int) -> None:
    quantiles = sorted({key.rsplit(".lr_q", 1)[1] for key in stats if ".lr_q" in key},
                       key=float)
    for i, layer in enumerate(layers):
        color = f"C{i}"
        epochs = first_epoch + np.arange(len(stats[f"{layer}.grad_norm"]))
        panels["grad"].plot(epochs, stats[f"{layer}.grad_norm"], marker=".", color=color,
                            label=f"layer {layer}")
        panels["ratio"].plot(epochs, stats[f"{layer}.update_ratio"], marker=".", color=color,
                             label=f"layer {layer}")
        if quantiles and f"{layer}.lr_q{quantiles[0]}" in stats:
            low, high = stats[f"{layer}.lr_q{quantiles[0]}"], stats[f"{layer}.lr_q{quantiles[-1]}"]
            middle = quantiles[len(quantiles) // 2]
            panels["lr"].plot(epochs, stats[f"{layer}.lr_q{middle}"], marker=".", color=color,
                              label=f"layer {layer}: {middle}% quantile")
            panels["lr"].fill_between(epochs, low, high, color=color, alpha=0.15,
                                      label=f"layer {layer}: {quantiles[0]}-{quantiles[-1]}%")
    panels["grad"].set(xlabel="epoch", ylabel="||g||, mean over the epoch's steps",
                       title="gradient norm per layer", yscale="log")
    panels["ratio"].set(xlabel="epoch", ylabel="||p_new - p_old|| / ||p_old||",
                        title="update to weight ratio per step", yscale="log")
    panels["lr"].set(xlabel="epoch", ylabel="effective learning rate (log)", yscale="log",
                     title="effective learning rate per coordinate" if quantiles
                     else "effective learning rate: not defined for this optimizer")
    if not quantiles:
        panels["lr"].set_axis_off()

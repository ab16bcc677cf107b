"""Every panel of every example's figure is readable: axis labels, a legend (or, for an
image, a colour bar), whole-number epoch ticks (picture galleries without axes are
exempt); the decision-boundary plot has a colour
bar and a class legend; the Rosenbrock paths differ in colour, line style and marker.

The examples run in this process with small options, and their figures are caught at
``save_figure`` instead of being written.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the example plots need matplotlib")

EXAMPLES = Path(__file__).parent.parent / "examples"

# Faster options than test_examples.CASES where the plot does not need its; every
# other example runs with the options CASES gives it.
FAST = {
    "decision_boundary.py": ["--epochs", "1"],
    "sklearn_datasets.py": ["--epochs", "2", "--dataset", "wine"],
    "optimizers_compared.py": ["--epochs", "2"],
    "rmsprop_vs_adagrad.py": ["--steps", "200"],
    "trajectories.py": ["--steps-scale", "0.05"],
    "cpu_vs_gpu.py": ["--epochs", "1"],
    "inside_one_step.py": ["--steps", "2"],
    "adding_problem.py": ["--steps", "40", "--eval-every", "20"],
}


def arguments(script):
    if script in FAST:
        return FAST[script]
    spec = importlib.util.spec_from_file_location("example_cases",
                                                  Path(__file__).with_name("test_examples.py"))
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    return cases.CASES[script][0]


def scripts():
    return sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "common.py")


@pytest.fixture(autouse=True)
def close_figures():
    """The figures a test caught are never saved (and so never closed): close them after."""
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def figures_of(script, monkeypatch, tmp_path):
    """Run ``script``'s main() here; return the figures it would have saved."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{Path(script).stem}",
                                                  EXAMPLES / script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)   # dataclasses look the module up
    spec.loader.exec_module(module)
    caught = []
    monkeypatch.setattr(module, "save_figure", lambda figure, out, name: caught.append(figure))
    monkeypatch.setattr(sys, "argv", [script, *arguments(script), "--out", str(tmp_path)])
    module.main()
    assert caught, f"{script} drew no figure"
    return caught


def panels(figure):
    """The figure's axes, without the colour bars'."""
    return [axes for axes in figure.axes if axes.get_label() != "<colorbar>"]


def thumbnail(axes):
    """A picture without axes (hidden, or without ticks): a gallery tile, not a plot."""
    return not axes.axison or (len(axes.get_xticks()) == 0 and len(axes.get_yticks()) == 0)


def problems_of(figure):
    """What a reader would miss in ``figure``: one line per defect."""
    figure.canvas.draw()
    problems = []
    plots = [axes for axes in panels(figure) if not thumbnail(axes)]
    for axes in plots:
        name = axes.get_title() or "an untitled panel"
        if not axes.get_xlabel() or not axes.get_ylabel():
            problems.append(f"{name}: an axis without a label")
        if axes.get_legend() is None and not axes.images:
            problems.append(f"{name}: no legend")
        if "epoch" in axes.get_xlabel():
            low, high = sorted(axes.get_xlim())
            ticks = [t for t in axes.get_xticks() if low <= t <= high]
            if any(t != round(t) for t in ticks):
                problems.append(f"{name}: epoch ticks {ticks} are not whole numbers")
    # an image with its numbers written in needs no colour bar; images that share one
    # colour scale (colour map and limits) can share one colour bar
    scales = {(image.get_cmap().name, image.get_clim())
              for axes in plots if not axes.texts for image in axes.images}
    colour_bars = len(figure.axes) - len(panels(figure))
    if colour_bars < len(scales):
        problems.append(f"{len(scales)} colour scales but only {colour_bars} colour bars")
    return problems


@pytest.mark.parametrize("script", scripts())
def test_every_panel_is_labelled(script, monkeypatch, tmp_path):
    for figure in figures_of(script, monkeypatch, tmp_path):
        assert problems_of(figure) == []


def test_decision_boundary_has_a_colour_bar_and_a_class_legend(monkeypatch, tmp_path):
    figure, = figures_of("decision_boundary.py", monkeypatch, tmp_path)
    for axes in panels(figure):
        legend = [text.get_text() for text in axes.get_legend().get_texts()]
        assert {"class 0 (test)", "class 1 (test)"} <= set(legend)
    colour_bars = [axes for axes in figure.axes if axes.get_label() == "<colorbar>"]
    assert len(colour_bars) == len(panels(figure)) == 2
    assert all("P(class 1 | x)" in axes.get_ylabel() for axes in colour_bars)


def test_rosenbrock_paths_are_distinguishable(monkeypatch, tmp_path):
    figure, = figures_of("trajectories.py", monkeypatch, tmp_path)
    loss = next(axes for axes in panels(figure) if axes.get_title() == "Rosenbrock: loss")
    looks = {(line.get_color(), str(line.get_linestyle()), line.get_marker())
             for line in loss.get_lines()}
    assert len(looks) == 5 and len({look[2] for look in looks}) == 5   # five markers
    small = [axes for axes in panels(figure) if axes.get_title().startswith("Rosenbrock: ")
             and "others grey" in axes.get_title()]
    assert len(small) == 5


def test_training_curves_of_the_cli_are_labelled(tmp_path):
    from matplotlib.figure import Figure

    from minidl.plots import training_curves
    saved = []
    original = Figure.savefig
    Figure.savefig = lambda self, *args, **kwargs: saved.append(self)
    try:
        history = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.6],
                   "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7]}
        stats = {"loss": [1.0, 0.5], "0.grad_norm": [1.0, 0.5], "0.update_ratio": [0.1, 0.01],
                 "0.lr_q10": [0.1, 0.1], "0.lr_q50": [1.0, 1.0], "0.lr_q90": [5.0, 4.0]}
        training_curves(history, str(tmp_path / "a.png"), "accuracy")
        training_curves(history, str(tmp_path / "b.png"), "accuracy", stats, first_epoch=2)
    finally:
        Figure.savefig = original
    plain, with_stats = saved
    assert len(panels(plain)) == 2 and len(panels(with_stats)) == 5
    for figure in saved:
        assert problems_of(figure) == []
    lr_panel = next(a for a in panels(with_stats) if "learning rate" in a.get_title())
    np.testing.assert_array_equal(lr_panel.get_lines()[0].get_xdata(), [2, 3])


def test_the_checker_finds_what_a_reader_would_miss():
    from matplotlib.figure import Figure

    figure = Figure()
    bare, image = figure.subplots(1, 2)
    bare.plot([1, 2, 3], [3, 1, 2])
    bare.set(title="bare", xlabel="epoch")
    bare.set_xlim(0.5, 2.5)
    image.imshow(np.eye(3))
    image.set(title="image", xlabel="x", ylabel="y")
    label, legend, ticks, colour_bar = problems_of(figure)
    assert (label, legend) == ("bare: an axis without a label", "bare: no legend")
    assert ticks.startswith("bare: epoch ticks") and ticks.endswith("are not whole numbers")
    assert colour_bar == "1 colour scales but only 0 colour bars"


def test_images_on_one_colour_scale_share_a_colour_bar_and_two_scales_need_two():
    from matplotlib.figure import Figure

    figure = Figure()
    panels_ = figure.subplots(1, 3)
    for axes, top in zip(panels_, (1, 1, 2)):
        shown = axes.imshow(np.eye(3), vmin=0, vmax=top)
        axes.set(title=f"up to {top}", xlabel="x", ylabel="y")
    figure.colorbar(shown, ax=panels_)
    assert problems_of(figure) == ["2 colour scales but only 1 colour bars"]
    figure.colorbar(panels_[0].images[0], ax=panels_[0])
    assert problems_of(figure) == []


def test_one_epoch_of_training_curves_has_whole_number_ticks(tmp_path):
    from matplotlib.figure import Figure

    from minidl.plots import training_curves
    saved = []
    original = Figure.savefig
    Figure.savefig = lambda self, *args, **kwargs: saved.append(self)
    try:
        training_curves({"loss": [1.0], "val_loss": [1.1], "r2": [0.5], "val_r2": [0.4]},
                        str(tmp_path / "a.png"), "r2",
                        {"loss": [1.0], "0.grad_norm": [1.0], "0.update_ratio": [0.1]})
    finally:
        Figure.savefig = original
    figure, = saved
    assert problems_of(figure) == []

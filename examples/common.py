"""What the examples share: command-line options, plotting, a text table and the
verdict printed after each claim an example checks.

Plots are optional: ``pyplot()`` returns None when matplotlib is not installed,
and every example still prints its numbers.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

from minidl.plots import integer_epochs  # noqa: F401  (whole-number epoch ticks, for the examples)

DEFAULT_OUT = Path(__file__).parent / "out"


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs an int >= 1, got {value}")
    return value


def parser(doc: str, epochs: int | None = None) -> argparse.ArgumentParser:
    """A parser with ``--out`` and ``--seed`` (and ``--epochs`` when given a default).

    The example's module docstring becomes the ``--help`` description.
    """
    result = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if epochs is not None:
        result.add_argument("--epochs", type=positive_int, default=epochs,
                            help=f"training epochs (default {epochs})")
    result.add_argument("--seed", type=int, default=0,
                        help="seed for the data split, initialisation and shuffling (default 0)")
    result.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the PNG plots (default {DEFAULT_OUT})")
    return result


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend, or None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(figure: Any, out: Path, name: str) -> Path:
    """Write ``figure`` to ``out/name`` (making ``out``), close it, say where."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    figure.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(figure)
    print(f"wrote {path}")
    return path


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; floats printed with 4 significant digits."""
    def cell(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    cells = [list(header)] + [[cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def verdict(holds: bool) -> str:
    """What an example prints after a claim it checked: "holds" or "does NOT hold"."""
    return "holds" if holds else "does NOT hold"

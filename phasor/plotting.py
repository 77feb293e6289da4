"""Figure helpers shared by the studies (matplotlib, headless Agg backend).

Besides `new_figure` and `save_figure`, two pieces make a figure readable at a
glance:

* `confusion_matrix` draws a matrix of counts with a colour bar, readable fonts and
  each count in black or white, whichever contrasts more with its cell (`text_color`);
* `line_style` gives run ``i`` of a comparison its own colour, marker, line width and
  marker size, drawn thinner and smaller the later the run, so that a curve equal to an
  earlier one still shows on top of it; `integer_epochs` puts whole-number ticks on an
  epoch axis (and room around a single epoch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "confusion_matrix",
    "contrast_ratio",
    "integer_epochs",
    "line_style",
    "new_figure",
    "readable_log_axis",
    "save_figure",
    "text_color",
]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] | None = None, **kw):
    """Return ``(figure, axes)`` drawn off-screen; ``size`` in inches (default 4.5 x 3.5 per
    panel); ``axes`` is always 2-D; ``kw`` goes to ``plt.subplots`` (e.g. ``sharey="row"``)."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("figures need matplotlib: pip install 'phasor-nn[experiments]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if size is None:
        size = (4.5 * ncols, 3.5 * nrows)
    return plt.subplots(nrows, ncols, figsize=size, squeeze=False, **kw)


def save_figure(figure, path: str | Path) -> Path:
    """Save ``figure`` as PNG at ``path`` (folders created) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _luminance(rgb: Sequence[float]) -> float:
    """WCAG relative luminance ``0.2126 R + 0.7152 G + 0.0722 B`` of linearised sRGB."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """WCAG contrast ratio ``(L_light + 0.05) / (L_dark + 0.05)`` of two RGB(A) colours in
    [0, 1]: 1 for equal colours, 21 for black on white."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def text_color(background: Sequence[float]) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with ``background`` (RGB(A) in
    [0, 1]); the winner always reaches a contrast ratio of at least 4.58."""
    black = contrast_ratio(background, (0.0, 0.0, 0.0))
    white = contrast_ratio(background, (1.0, 1.0, 1.0))
    return "black" if black >= white else "white"


def confusion_matrix(
    ax,
    matrix: np.ndarray,
    labels: Sequence[str],
    title: str = "",
    cmap: str = "Blues",
    colorbar_label: str = "count",
    fontsize: float = 10,
):
    """Draw ``matrix`` (rows = true class, columns = predicted) on ``ax`` with every count
    written in its cell, a colour bar and the class ``labels`` on both axes.

    Counts are written in black or white by `text_color` of their cell; their font
    shrinks a little for more than 12 classes. Returns the image (its ``colorbar`` is set).
    Shape: ``matrix`` $(K, K)$, ``labels`` of length $K$.
    """
    matrix = np.asarray(matrix)
    k = len(labels)
    if matrix.shape != (k, k):
        raise ValueError(f"matrix must be {k} x {k} for {k} labels, got shape {matrix.shape}")
    image = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=max(1, int(matrix.max())))
    size = fontsize if k <= 12 else fontsize * 12 / k
    for i in range(k):
        for j in range(k):
            colour = text_color(image.cmap(image.norm(matrix[i, j])))
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=size, color=colour)
    ticks = range(k)
    ax.set_xticks(ticks, labels, rotation=45 if k > 2 else 0, ha="right" if k > 2 else "center")
    ax.set_yticks(ticks, labels)
    ax.tick_params(labelsize=fontsize - 1)
    ax.set_xlabel("predicted class", fontsize=fontsize)
    ax.set_ylabel("true class", fontsize=fontsize)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(colorbar_label, fontsize=fontsize - 1)
    bar.ax.tick_params(labelsize=fontsize - 1)
    bar.ax.yaxis.get_major_locator().set_params(integer=True)
    return image


def line_style(index: int, count: int) -> dict:
    """Plot keywords for run ``index`` of ``count`` compared in one panel: its own colour and
    marker, with line width and marker size falling from the first run to the last, so that
    later (thinner) curves lie visibly on top of equal earlier ones."""
    if not 0 <= index < count:
        raise ValueError(f"index must be in 0..{count - 1}, got {index}")
    shrink = index / max(1, count - 1)
    return {
        "color": f"C{index % 10}",
        "marker": _MARKERS[index % len(_MARKERS)],
        "linewidth": 4.0 - 2.8 * shrink,
        "markersize": 11.0 - 6.0 * shrink,
        "alpha": 0.9,
        "zorder": 2 + index,
    }


def integer_epochs(ax, epochs: Sequence[int]) -> None:
    """Whole-number ticks on the x axis of ``ax`` (epochs), with half an epoch of room on
    each side so that the first and last points (or a single one) are not on the frame."""
    from matplotlib.ticker import MaxNLocator

    if not len(epochs):
        return
    lo, hi = min(epochs), max(epochs)
    if hi - lo < 10:
        ax.set_xticks(range(lo, hi + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(lo - 0.5, hi + 0.5)


def readable_log_axis(ax, which: str) -> None:
    """Ticks a person reads on a log axis: over 2.5 decades, labelled powers of ten only;
    narrower, a few plain numbers (0.02, 0.05, 0.1, ...) and no minor labels to overlap."""
    from matplotlib.ticker import (
        FixedLocator,
        FuncFormatter,
        LogLocator,
        MaxNLocator,
        NullFormatter,
    )

    axis = ax.yaxis if which == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if which == "y" else ax.get_xlim()
    axis.set_minor_formatter(NullFormatter())
    if hi / lo > 300:
        axis.set_major_locator(LogLocator(base=10))
        return
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    for mantissas in ((1, 2, 5), (1, 2, 3, 5), (1, 1.5, 2, 3, 4, 5, 6, 8)):
        ticks = [m * 10.0**d for d in decades for m in mantissas if lo <= m * 10.0**d <= hi]
        if len(ticks) >= 3:
            break
    else:  # under a factor 2 or so: evenly spaced plain numbers
        ticks = [t for t in MaxNLocator(4).tick_values(lo, hi) if lo <= t <= hi]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))

"""Figure helpers shared by the studies (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["new_figure", "save_figure"]


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] | None = None):
    """Return ``(figure, axes)`` drawn off-screen; ``size`` in inches (default 4.5 x 3.5 per panel)."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("figures need matplotlib: pip install 'phasor-nn[experiments]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if size is None:
        size = (4.5 * ncols, 3.5 * nrows)
    return plt.subplots(nrows, ncols, figsize=size, squeeze=False)


def save_figure(figure, path: str | Path) -> Path:
    """Save ``figure`` as PNG at ``path`` (folders created) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path

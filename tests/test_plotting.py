import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasor.plotting import (
    confusion_matrix,
    contrast_ratio,
    integer_epochs,
    line_style,
    new_figure,
    text_color,
)

pytest.importorskip("matplotlib")


def test_contrast_ratio_endpoints():
    assert contrast_ratio((0, 0, 0), (1, 1, 1)) == pytest.approx(21.0)
    assert contrast_ratio((0.3, 0.6, 0.9), (0.3, 0.6, 0.9)) == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(st.tuples(*[st.floats(0, 1)] * 3))
def test_text_color_always_reaches_aa_contrast(rgb):
    from matplotlib.colors import to_rgb

    assert contrast_ratio(to_rgb(text_color(rgb)), rgb) >= 4.5


def test_confusion_counts_contrast_with_their_cells_and_a_colour_bar_exists():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    matrix = np.array([[9, 0, 1], [2, 5, 0], [0, 4, 7]])
    fig, axes = new_figure()
    ax = axes[0][0]
    image = confusion_matrix(ax, matrix, ("a", "b", "c"), title="t", colorbar_label="clips")
    assert image.colorbar is not None and image.colorbar.ax.get_ylabel() == "clips"
    assert len(ax.texts) == matrix.size
    colours = set()
    for text in ax.texts:
        j, i = (round(v) for v in text.get_position())
        assert text.get_text() == str(matrix[i, j])
        cell = image.cmap(image.norm(matrix[i, j]))
        assert contrast_ratio(to_rgb(text.get_color()), cell) >= 4.5
        assert text.get_fontsize() >= 9
        colours.add(text.get_color())
    assert colours == {"black", "white"}  # light and dark cells both present
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    plt.close(fig)
    with pytest.raises(ValueError, match="3 x 3"):
        confusion_matrix(ax, matrix[:2], ("a", "b", "c"))


def test_line_styles_are_distinct_and_later_curves_thinner():
    styles = [line_style(i, 4) for i in range(4)]
    assert len({(s["color"], s["marker"]) for s in styles}) == 4
    widths = [s["linewidth"] for s in styles]
    sizes = [s["markersize"] for s in styles]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 4
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4
    with pytest.raises(ValueError, match="index"):
        line_style(4, 4)


def test_integer_epochs_ticks_whole_epochs_only():
    import matplotlib.pyplot as plt

    fig, axes = new_figure()
    ax = axes[0][0]
    ax.plot([1], [0.5], "o")
    integer_epochs(ax, [1])
    assert list(ax.get_xticks()) == [1]
    assert ax.get_xlim() == (0.5, 1.5)
    ax.plot(range(1, 41), range(40))
    integer_epochs(ax, list(range(1, 41)))
    ticks = [t for t in ax.get_xticks() if 0.5 <= t <= 40.5]
    assert all(float(t).is_integer() for t in ticks) and 3 <= len(ticks) <= 12
    plt.close(fig)


def test_narrow_log_axes_get_plain_labels_and_no_minor_ones(request):
    # errors spanning under a decade used to get crowded minor labels (6x10^-1, 4x10^-1, ...)
    from phasor.plotting import new_figure, readable_log_axis

    fig, axes = new_figure()
    import matplotlib.pyplot as plt  # after new_figure chose the Agg backend

    request.addfinalizer(lambda: plt.close(fig))
    ax = axes[0, 0]
    ax.plot([4, 32], [0.13, 0.36])
    ax.set_yscale("log")
    readable_log_axis(ax, "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    assert labels == ["0.15", "0.2", "0.3"]
    assert all(t.get_text() == "" for t in ax.get_yticklabels(minor=True))

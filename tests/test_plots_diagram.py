"""recsys_ae.plots.autorec_diagram: the network of chapter 3, drawn once and read back."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from recsys_ae import plots  # noqa: E402


def _texts(fig):
    ax = fig.axes[0]
    return [t.get_text() for t in ax.texts], ax.get_title()


def test_autorec_diagram_names_every_block_and_the_masked_loss():
    fig = plots.autorec_diagram("user", n_cells=8, observed=(0, 3, 4, 6), dropped=(3,))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    texts, title = _texts(fig)
    joined = "\n".join(texts)
    assert "U-AutoRec" in title
    for label in ("input row r_u", "dropout", "encoder W", "hidden code h", "decoder V",
                  "output r̂_u", "masked loss", "h = g(W r_u + b)", "r̂_u = f(V h + c)"):
        assert label in joined, label
    # one "r" per observed rating in the input and in the targets, one "not in loss" per
    # unobserved output
    assert texts.count("r") == 2 * 4
    assert texts.count("not in loss") == 8 - 4


def test_autorec_diagram_item_rows_and_bad_arguments():
    texts, title = _texts(plots.autorec_diagram("item"))
    assert "I-AutoRec" in title and "input row r_i\n(user ratings;\n0 = not rated)" in texts
    with pytest.raises(ValueError, match="kind"):
        plots.autorec_diagram("both")
    with pytest.raises(ValueError, match="only observed"):
        plots.autorec_diagram(observed=(0,), dropped=(1,))

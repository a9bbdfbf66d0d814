"""The planners' notebooks: committed without outputs, run top to bottom, show their maps."""

import base64
import io
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

#: Cell tag of the cells that show a map (a figure, or a map file as written).
MAP_TAG = "map"

#: Calls that draw or write a map.
MAP_CALL = re.compile(r"\bmaps\.(plot_\w+|render_maps)\(")

#: How IPython prints a figure it cannot display.
FIGURE_TEXT = re.compile(r"<Figure size \d+x\d+")


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _is_map_cell(cell) -> bool:
    return MAP_TAG in cell.metadata.get("tags", [])


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _code_cells(nb):
        assert cell.outputs == [], f"{path.name}: strip outputs before committing"
        assert cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_drawing_a_map_is_tagged(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _code_cells(nb):
        if MAP_CALL.search(cell.source):
            assert _is_map_cell(cell), f"{path.name}: tag the cell {cell.source[:60]!r} {MAP_TAG!r}"


def test_the_map_notebooks_have_map_cells():
    tagged = {
        path.stem
        for path in NOTEBOOKS
        if any(_is_map_cell(c) for c in _code_cells(nbformat.read(path, as_version=4)))
    }
    assert {"02_cluster_maps", "03_renewal_supply", "04_accessibility"} <= tagged


def _png_size(output) -> tuple[int, int] | None:
    data = output.get("data", {})
    if output.output_type not in {"display_data", "execute_result"} or "image/png" not in data:
        return None
    with Image.open(io.BytesIO(base64.b64decode(data["image/png"]))) as image:
        return image.size


def _figure_as_text(output) -> bool:
    """An output that shows a figure as its repr instead of an image."""
    if output.output_type == "stream":
        return bool(FIGURE_TEXT.search(output.text))
    data = output.get("data", {})
    return "image/png" not in data and bool(FIGURE_TEXT.search(data.get("text/plain", "")))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},  # where a planner opens it
    )
    client.execute()
    outputs = [out for cell in _code_cells(nb) for out in cell.outputs]
    assert [out for out in outputs if out.output_type == "error"] == []
    assert outputs
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(p.name for p in NOTEBOOKS), (
        "notebooks must not write files next to themselves"
    )
    # every map cell shows its map as an image, and no figure is shown as "<Figure size ...>"
    for cell in filter(_is_map_cell, _code_cells(nb)):
        sizes = [size for size in map(_png_size, cell.outputs) if size is not None]
        assert sizes, f"{path.name}: no image from {cell.source[:60]!r}"
        assert all(w >= 300 and h >= 200 for w, h in sizes), sizes  # a map, not an icon
    assert [out for out in outputs if _figure_as_text(out)] == []

"""docs/tutorial.ipynb runs from top to bottom in a fresh kernel (nbclient), shows its figures
inline and its explorer as a widget, and is kept in git with its outputs stripped."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs the notebook extra")
nbclient = pytest.importorskip("nbclient", reason="needs the notebook extra")
pytest.importorskip("ipywidgets", reason="needs the notebook extra")

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


def test_the_tutorial_is_stored_without_outputs():
    notebook = nbformat.read(TUTORIAL, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.slow
def test_the_tutorial_runs_and_shows_figures_tables_and_the_explorer(tmp_path):
    notebook = nbformat.read(TUTORIAL, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the traceback, if a cell fails
    kinds = [set().union(*(output.get("data", {}).keys() for output in cell.outputs))
             for cell in notebook.cells if cell.cell_type == "code"]
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    shown = dict(zip(sources, kinds, strict=True))
    plots = [source for source in sources if ".plot(" in source.splitlines()[-1]]
    assert len(plots) == 4
    assert all("image/png" in shown[source] for source in plots)
    assert "text/html" in shown[sources[0]]  # the Result's table
    assert "application/vnd.jupyter.widget-view+json" in shown[sources[-1]]

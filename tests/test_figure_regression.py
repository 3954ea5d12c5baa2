"""The figure regression (tests/figures/regress.py, `make figures`) catches a spoiled figure,
says so with a report that shows it, and lets a FreeType-sized change of the text through."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from gifcli.model.preset import resolve
from gifcli.simulation.single import simulate

HERE = Path(__file__).parent
spec = importlib.util.spec_from_file_location("regress", HERE / "figures" / "regress.py")
regress = sys.modules["regress"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(regress)


def draw(path: Path, rc: dict | None = None, **changes) -> Path:
    """The pattern figure of tonic bursting (with ``changes``), under ``rc`` too."""
    from gifcli import plots

    patched = dict(plots.pattern.RC)
    plots.pattern.RC.update(rc or {})
    try:
        figure = plots.pattern_figure(simulate(resolve("tonic_bursting").replace(**changes)))
        return plots.save_figure(figure, path, "png")
    finally:
        plots.pattern.RC.clear()
        plots.pattern.RC.update(patched)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """A baseline folder with one figure, and an empty folder for the new ones."""
    root = tmp_path_factory.mktemp("figures")
    (root / "baseline").mkdir()
    (root / "new").mkdir()
    draw(root / "baseline" / "tonic_bursting.png")
    return root / "baseline", root / "new"


def fresh(new: Path) -> Path:
    for old in new.iterdir():
        old.unlink()
    return new


def test_the_same_figure_matches(folders):
    baseline, new = folders
    draw(fresh(new) / "tonic_bursting.png")
    (result,) = regress.compare_all(new, baseline)
    assert result.status == "same" and not result.failed


def test_text_rendered_differently_stays_within_the_tolerance(folders):
    """What a FreeType or matplotlib release can do to text: glyphs hinted another way.
    A real change (not a no-op), and within the tolerance."""
    baseline, new = folders
    draw(fresh(new) / "tonic_bursting.png", rc={"text.hinting": "auto"})
    found = regress.compare_all(new, baseline, tolerance=0.0)
    assert 0.0 < found[0].rms < regress.TOLERANCE
    assert regress.compare_all(new, baseline)[0].status == "same"


@pytest.mark.parametrize("spoil", [
    {"A2": -0.4},  # another trace
    {"input_scale": 1.05},  # a little more input: the bursts shift a few ms
])
def test_a_spoiled_figure_fails_with_a_report_that_shows_it(folders, tmp_path, spoil, capsys):
    baseline, new = folders
    draw(fresh(new) / "tonic_bursting.png", **spoil)
    extra = tmp_path / "baseline"
    shutil.copytree(baseline, extra)
    shutil.copyfile(baseline / "tonic_bursting.png", extra / "gone.png")  # drawn no more
    by_name = {c.name: c for c in regress.compare_all(new, extra)}
    result, gone = by_name["tonic_bursting.png"], by_name["gone.png"]
    assert (result.name, result.status) == ("tonic_bursting.png", "differs")
    assert result.rms > regress.TOLERANCE
    assert (gone.name, gone.status) == ("gone.png", "gone")

    report = tmp_path / "report"
    index = regress.write_report([result, gone], new, report, extra)
    page = index.read_text(encoding="utf-8")
    assert page.count("<img") == 3 + 1  # baseline, new, difference; the gone one's baseline
    for kind in ("baseline", "new", "diff"):
        assert f"src='{kind}/tonic_bursting.png'" in page
        assert (report / kind / "tonic_bursting.png").stat().st_size > 1000
    assert "2 of 2 figures differ" in page


def test_a_figure_of_another_size_is_reported_not_a_crash(folders, tmp_path):
    """A changed layout (a figure grown taller) has no pixels to compare: it differs, and
    the report is still written."""
    from PIL import Image

    baseline, new = folders
    with Image.open(baseline / "tonic_bursting.png") as image:
        taller = Image.new(image.mode, (image.width, image.height + 60), "white")
        taller.paste(image, (0, 0))
        taller.save(fresh(new) / "tonic_bursting.png")
    (result,) = regress.compare_all(new, baseline)
    assert (result.status, result.rms) == ("differs", None)
    assert "sizes do not match" in result.note
    assert regress.write_report([result], new, tmp_path / "report", baseline).exists()


def test_the_command_fails_on_a_spoiled_figure_and_accepting_makes_it_pass(folders, tmp_path,
                                                                          monkeypatch, capsys):
    baseline, new = folders
    accepted = tmp_path / "baseline"
    shutil.copytree(baseline, accepted)
    monkeypatch.setattr(regress, "BASELINE", accepted)
    draw(fresh(new) / "tonic_bursting.png", a=0.002)
    report = tmp_path / "report"
    assert regress.main(["--compare-only", str(new), "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "FAIL tonic_bursting.png: differs (RMS" in out
    assert f"0 of 1 figures match; report: {report / 'index.html'}" in out
    regress.accept(new, accepted)
    assert regress.main(["--compare-only", str(new), "--report", str(report)]) == 0
    assert "1 of 1 figures match" in capsys.readouterr().out


def test_every_kind_of_figure_has_a_baseline():
    """The committed baselines: 20 patterns, the gallery, sweeps over 1, 2 and 3 quantities,
    f–I curves and a fit (`make figures-accept` writes them)."""
    names = {p.name for p in regress.BASELINE.glob("*.png")}
    patterns = {f"{resolve(letter).name}.png" for letter in "ABCDEFGHIJKLMNOPQRST"}
    assert patterns <= names
    assert {"gallery.png", "tonic_bursting_sweep_a.png", "tonic_bursting_sweep_a_A1.png",
            "tonic_bursting_sweep_a_A1_A2.png", "tonic_bursting_fit.png"} <= names
    assert any(name.startswith("fi_") or "_fi" in name for name in names), names

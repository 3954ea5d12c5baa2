"""The figure regression: draw every kind of figure, compare it with its committed baseline.

    python tests/figures/regress.py                     # draw, compare, write the report
    python tests/figures/regress.py --accept            # a deliberate change: new baselines
    python tests/figures/regress.py --compare-only NEW  # compare figures already drawn in NEW

Every figure is drawn by the ``gif`` commands a user types (in this process, so Numba loads
once): the pattern figure of each of the 20 presets, the gallery, a sweep over one, two and
three quantities, f–I curves and a fit. Each PNG is compared with ``baseline/`` by
matplotlib's ``compare_images``: the RMS of the pixel differences (0–255) must stay within
:data:`TOLERANCE`. The HTML report shows the baseline, the new image and their difference side
by side for every figure, failures first. Exit status 1 when a figure differs, is new, or is
gone.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline"
REPORT = HERE.parents[1] / "build" / "figure-report"
#: The RMS (of 0–255 pixel values) a figure may move. Text rasterised another way moves a
#: pattern figure by RMS 12–17 (FreeType's autohinter off: 15; tick labels 0.1 pt smaller: 12;
#: tests/test_figure_regression.py measures the first), as a FreeType or matplotlib release
#: can; a changed trace by 40–50 (5 % more input: 41; A2 = -0.4 instead of -0.6: 50). A
#: change below it (a line 0.1 pt wider: 0.5) passes: look at the report of a deliberate one.
TOLERANCE = 20.0
DIFF_SUFFIX = "-failed-diff.png"  # compare_images writes the difference beside the new image

# (what it shows, the gif command); "TARGET" is the JSON of the tonic bursting run.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("the 20 pattern figures", ("run", "--all", "--format", "png")),
    ("the gallery", ("gallery",)),
    ("a 1-D sweep", ("sweep", "tonic_bursting", "-p", "a=-0.01:0.02:31", "-f", "png")),
    ("a 2-D sweep", ("sweep", "tonic_bursting", "-p", "a=-0.01:0.02:21", "-p", "A1=0:20:21",
                     "-f", "png")),
    ("a 3-D sweep", ("sweep", "tonic_bursting", "-p", "a=-0.01:0.02:13", "-p", "A1=0:20:11",
                     "-p", "A2=-1,-0.6,-0.2", "-f", "png")),
    ("f–I curves", ("fi", "class_1_excitability", "class_2_excitability", "--num", "41",
                    "-f", "png")),
    ("a fit", ("fit", "tonic_bursting", "--target", "TARGET", "-F", "A1=0:20", "-F", "A2=-2:0",
               "--budget", "128", "--seed", "1", "-f", "png")),
)


@dataclass(frozen=True)
class Comparison:
    name: str
    status: str  # "same", "differs", "new" (no baseline) or "gone" (no new image)
    rms: float | None = None
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.status != "same"


def draw_all(folder: Path) -> list[Path]:
    """Every figure of :data:`COMMANDS`, drawn into ``folder``; their paths."""
    from gifcli.cli import run

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "tonic_bursting.json"
        code = run(["run", "tonic_bursting", "--format", "json", "--out", scratch, "--quiet"])
        if code != 0:
            sys.exit(f"gif run tonic_bursting failed ({code})")
        for what, command in COMMANDS:
            print(f"drawing {what}", flush=True)
            args = [str(target) if a == "TARGET" else a for a in command]
            with _argv(args):
                code = run([*args, "--out", str(folder), "--quiet"])
            if code not in (0, 1):  # 1: a check failed, and the figure shows it
                sys.exit(f"gif {' '.join(args)} failed ({code})")
    return figures(folder)


@contextlib.contextmanager
def _argv(args: Sequence[str]) -> Iterator[None]:
    # The figures' metadata name the command line: the one typed, not this script's.
    saved = sys.argv
    sys.argv = ["gif", *args]
    try:
        yield
    finally:
        sys.argv = saved


def compare_all(new: Path, baseline: Path = BASELINE,
                tolerance: float = TOLERANCE) -> list[Comparison]:
    """Each PNG in ``new`` against the one of the same name in ``baseline``, and the baseline
    images that ``new`` lacks. Failures first, then by name."""
    from matplotlib.testing.compare import compare_images
    from matplotlib.testing.exceptions import ImageComparisonFailure

    results = []
    names = {p.name for p in figures(new)} | {p.name for p in figures(baseline)}
    for name in sorted(names):
        if not (baseline / name).exists():
            results.append(Comparison(name, "new", note="no baseline image"))
        elif not (new / name).exists():
            results.append(Comparison(name, "gone", note="no longer drawn"))
        else:
            try:
                found = compare_images(str(baseline / name), str(new / name), tolerance,
                                       in_decorator=True)
            except ImageComparisonFailure as error:  # another size: no pixel to compare
                results.append(Comparison(name, "differs", note=str(error)))
                continue
            if found is None:
                results.append(Comparison(name, "same"))
            else:
                note = "" if found.get("rms") is not None else str(found.get("msg", ""))
                results.append(Comparison(name, "differs", found.get("rms"), note))
    return sorted(results, key=lambda c: (not c.failed, c.name))


def write_report(results: Sequence[Comparison], new: Path, report: Path,
                 baseline: Path = BASELINE, tolerance: float = TOLERANCE) -> Path:
    """``report``/index.html with the baseline, new and difference images of each figure
    (copied beside it, so that the folder can be kept as a CI artifact); its path."""
    if report.exists():
        shutil.rmtree(report)
    for kind in ("baseline", "new", "diff"):
        (report / kind).mkdir(parents=True)
    failed = sum(c.failed for c in results)
    rows = [_report_row(c, new, report, baseline) for c in results]
    title = (f"{failed} of {len(results)} figures differ" if failed
             else f"all {len(results)} figures match their baselines")
    page = (f"<!doctype html><meta charset='utf-8'><title>gifcli figures: {title}</title>\n"
            "<style>body{font-family:sans-serif} img{max-width:32vw;border:1px solid #ccc}"
            " td{vertical-align:top} .failed h2{color:#c62828}</style>\n"
            f"<h1>{title}</h1><p>Tolerance: RMS {tolerance:g} (pixel values 0–255). "
            "Accept a deliberate change with <code>make figures-accept</code>.</p>\n"
            + "\n".join(rows))
    index = report / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _report_row(result: Comparison, new: Path, report: Path, baseline: Path) -> str:
    cells = []
    for kind, source in (("baseline", baseline / result.name), ("new", new / result.name),
                         ("diff", new / result.name.replace(".png", DIFF_SUFFIX))):
        if source.exists():
            shutil.copyfile(source, report / kind / result.name)
            cells.append(f"<td>{kind}<br><img src='{kind}/{html.escape(result.name)}'></td>")
        else:
            cells.append(f"<td>{kind}<br>(none)</td>")
    rms = f", RMS {result.rms:.2f}" if result.rms is not None else ""
    note = f" ({html.escape(result.note)})" if result.note else ""
    css = " class='failed'" if result.failed else ""
    return (f"<div{css}><h2>{html.escape(result.name)}: {result.status}{rms}{note}</h2>"
            f"<table><tr>{''.join(cells)}</tr></table></div>")


def figures(folder: Path) -> list[Path]:
    """The PNG figures in ``folder``, without the difference images of an earlier compare."""
    return sorted(p for p in folder.glob("*.png") if not p.name.endswith(DIFF_SUFFIX))


def accept(new: Path, baseline: Path = BASELINE) -> None:
    """Make the images in ``new`` the baselines (and drop baselines no longer drawn)."""
    baseline.mkdir(parents=True, exist_ok=True)
    for old in baseline.glob("*.png"):
        old.unlink()
    for image in figures(new):
        shutil.copyfile(image, baseline / image.name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accept", action="store_true",
                        help="draw, and make the new images the baselines")
    parser.add_argument("--compare-only", type=Path, metavar="NEW",
                        help="compare the PNGs in NEW instead of drawing them")
    parser.add_argument("--report", type=Path, default=REPORT,
                        help=f"the report's folder ({REPORT.relative_to(HERE.parents[1])})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        new = args.compare_only or Path(scratch) / "new"
        if args.compare_only is None:
            draw_all(new)
        if args.accept:
            accept(new, BASELINE)
            print(f"accepted {len(figures(BASELINE))} baseline images in "
                  f"{os.path.relpath(BASELINE)}")
            return 0
        results = compare_all(new, BASELINE)
        index = write_report(results, new, args.report, BASELINE)
    for result in results:
        if result.failed:
            rms = f" (RMS {result.rms:.2f} > {TOLERANCE:g})" if result.rms is not None else ""
            print(f"FAIL {result.name}: {result.status}{rms} {result.note}".rstrip())
    failed = sum(c.failed for c in results)
    print(f"{len(results) - failed} of {len(results)} figures match; report: {index}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

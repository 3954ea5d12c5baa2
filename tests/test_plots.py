"""The figures: isolated from the user's matplotlib setup, literal text, any finite result,
units and overrides said, a readable gallery, V drawn to threshold at every spike, and the
png/svg/pdf files with their metadata."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from gifcli import __version__, plots
from gifcli.core.errors import GifError
from gifcli.model.preset import parse_preset, resolve
from gifcli.plots.pattern import TH_COLOR
from gifcli.simulation.single import simulate

LETTERS = "ABCDEFGHIJKLMNOPQRST"


@pytest.fixture(scope="module")
def results():
    """The 20 shipped presets, simulated with their own settings, by letter."""
    return {letter: simulate(resolve(letter)) for letter in LETTERS}


@pytest.fixture(scope="module")
def gallery(results):
    """The gallery of the 20, every check marked as failed, drawn once."""
    fig = plots.gallery_figure(list(results.values()), [False] * len(results))
    fig.canvas.draw()
    return fig


def panels(fig):
    """(trace panel, input panel) of each gallery cell, in order."""
    return list(zip(fig.axes[::2], fig.axes[1::2], strict=True))


def texts(fig) -> str:
    return "\n".join(text.get_text() for text in fig.texts)


def overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


# --- isolation from the user's matplotlib setup -----------------------------------------------

HOSTILE_RC = """\
backend: bogus
text.usetex: True
text.parse_math: True
font.family: serif
font.size: 30
lines.linewidth: 7
axes.prop_cycle: cycler('color', ['r', 'g'])
axes.formatter.use_mathtext: True
axes.unicode_minus: False
figure.facecolor: yellow
savefig.dpi: 20
savefig.bbox: tight
savefig.facecolor: red
savefig.transparent: True
svg.fonttype: path
svg.hashsalt: other
pdf.fonttype: 3
path.simplify: False
"""

DRAW = textwrap.dedent("""\
    import pickle, sys
    from pathlib import Path
    from gifcli import plots
    results = pickle.loads(Path(sys.argv[1]).read_bytes())
    if sys.argv[3] == "restyle":  # what a notebook might have done before
        import matplotlib
        matplotlib.rcParams.update({"font.size": 25, "lines.linewidth": 4})
    figures = {"pattern": plots.pattern_figure(results[0]),
               "gallery": plots.gallery_figure(results, [True, False])}
    for name, fig in figures.items():
        for fmt in plots.FIGURE_FORMATS:
            data = plots.figure_bytes(fig, fmt, command="gif test")
            Path(sys.argv[2], f"{name}.{fmt}").write_bytes(data)
    import matplotlib  # only now: with MPLBACKEND=bogus, only plots can import it
    print(matplotlib.rcParams["font.size"], matplotlib.rcParams["text.usetex"])
""")


def draw_in_subprocess(tmp_path: Path, name: str, cwd: Path, env: dict,
                       restyle: bool = False) -> tuple[dict[str, bytes], str]:
    out = tmp_path / name
    out.mkdir()
    run = subprocess.run(
        [sys.executable, "-c", DRAW, str(tmp_path / "results.pickle"), str(out),
         "restyle" if restyle else "-"], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=240)
    assert run.returncode == 0, run.stderr
    if not restyle:  # then the script imports matplotlib itself, and hears its complaint
        assert "Bad value" not in run.stderr  # no noise about a file the figures do not read
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}, run.stdout


def test_a_hostile_matplotlib_setup_changes_no_byte(tmp_path, results):
    (tmp_path / "results.pickle").write_bytes(pickle.dumps([results["L"], results["S"]]))
    config = tmp_path / "config"  # one font cache for all three runs, and no rc file in it
    config.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MPL", "MATPLOTLIB"))}
    base["MPLCONFIGDIR"] = str(config)
    clean_dir, cwd_dir, env_dir = (tmp_path / name for name in ("clean", "cwd", "env"))
    for folder in (clean_dir, cwd_dir, env_dir):
        folder.mkdir()
    (cwd_dir / "matplotlibrc").write_text(HOSTILE_RC)
    (env_dir / "rc").mkdir()
    (env_dir / "rc" / "matplotlibrc").write_text(HOSTILE_RC)

    clean, said = draw_in_subprocess(tmp_path, "out_clean", clean_dir, base)
    assert said.split() == ["10.0", "False"]  # matplotlib's defaults
    in_cwd, said = draw_in_subprocess(tmp_path, "out_cwd", cwd_dir,
                                      base | {"MPLBACKEND": "bogus"})
    assert said.split() == ["30.0", "True"]  # the file was read...
    from_env, said = draw_in_subprocess(tmp_path, "out_env", clean_dir,
                                        base | {"MATPLOTLIBRC": str(env_dir / "rc")},
                                        restyle=True)
    assert said.split() == ["25.0", "True"]
    assert len(clean) == 6
    assert in_cwd == clean  # ...and changed nothing
    assert from_env == clean


def test_a_style_set_in_the_session_changes_nothing_and_is_restored(results):
    before = plots.figure_bytes(plots.pattern_figure(results["A"]), "svg", command="x")
    with matplotlib.rc_context({"font.size": 30, "text.usetex": True, "svg.fonttype": "path",
                                "lines.linewidth": 6, "savefig.bbox": "tight"}):
        during = plots.figure_bytes(plots.pattern_figure(results["A"]), "svg", command="x")
        assert matplotlib.rcParams["font.size"] == 30  # the caller's style is left alone
        assert matplotlib.rcParams["text.usetex"] is True
    assert during == before


def test_isolated_style_and_new_figure_for_other_figure_modules():
    with matplotlib.rc_context({"font.size": 30}):
        with plots.isolated_style():
            assert matplotlib.rcParams["font.size"] == plots.RC["font.size"]
            assert matplotlib.rcParams["text.parse_math"] is False
            fig = plots.new_figure(figsize=(2, 1), dpi=50)
            fig.add_subplot().plot([0, 1])
        assert matplotlib.rcParams["font.size"] == 30
    assert plots.figure_bytes(fig, "png")[:8] == b"\x89PNG\r\n\x1a\n"


# --- text from files --------------------------------------------------------------------------

DEEP = "$" + "{" * 50 + "x" + "}" * 50 + "$"
HOSTILE_TITLE = "\x1b[31m$x^2$ \\frac{a}{b} \\ " + DEEP + " \x1b]0;pwn\x07"


def hostile_result():
    text = (f"name: hostile\ntitle: {json.dumps(HOSTILE_TITLE)}\nletter: Z\n"
            "description: '$\\alpha$ ${{{x}}}$'\ninput:\n  - {amplitude: 1.5, duration: 100}\n")
    preset = parse_preset(text, "hostile.yaml")
    assert preset.title == HOSTILE_TITLE
    return simulate(preset)


def test_text_from_a_file_is_drawn_literally_and_escaped():
    result = hostile_result()
    shown = "Z  \\x1b[31m$x^2$ \\frac{a}{b} \\ $"
    fig = plots.pattern_figure(result)
    assert texts(fig).splitlines()[0].startswith(shown)
    assert "\x1b" not in texts(fig) and "\x07" not in texts(fig)
    svg = plots.figure_bytes(fig, "svg").decode()
    assert "\\x1b[31m$x^2$ \\frac{a}{b}" in svg  # drawn as the characters, not as math
    gallery = plots.gallery_figure([result, result])
    assert gallery.axes[0].get_title().startswith(shown[3:])
    for fmt in plots.FIGURE_FORMATS:
        assert plots.figure_bytes(gallery, fmt)


def test_a_long_title_is_shortened_to_fit_beside_the_legend():
    result = simulate(parse_preset(f"name: long\ntitle: {'word ' * 80}\nletter: A\n"
                                   "input:\n  - {amplitude: 1.5, duration: 100}\n", "l.yaml"))
    fig = plots.pattern_figure(result)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig.texts[0]
    assert title.get_text().endswith("…") and len(title.get_text()) < 80
    assert title.get_window_extent(renderer).x1 < fig.legends[0].get_window_extent(renderer).x0


# --- any finite result draws ------------------------------------------------------------------


@pytest.mark.parametrize("letter, override", [("R", {"V_reset": -1.7e308}),
                                              ("A", {"initial": {"V": -1.7e308}}),
                                              ("R", {"V_reset": -1.7e308, "input_scale": 1e300})])
def test_extreme_finite_values_draw_and_the_figure_says_they_were_clipped(letter, override):
    result = simulate(resolve(letter).replace(**override))
    fig = plots.pattern_figure(result)
    assert plots.CLIP_NOTE in texts(fig)
    gallery = plots.gallery_figure([result, simulate(resolve("B"))])
    notes = [child.get_text() for child in gallery.axes[0].texts]
    assert any(note.startswith(plots.SHORT_CLIP_NOTE) for note in notes)
    assert not any(plots.SHORT_CLIP_NOTE in child.get_text() for child in gallery.axes[2].texts)
    fig.canvas.draw()
    for ax in fig.axes:  # wide tick labels (−1e300) do not push a label off the figure
        assert ax.yaxis.label.get_window_extent().x0 >= 0
    for figure in (fig, gallery):
        for ax in figure.axes:
            assert all(np.isfinite(ax.get_xlim())) and all(np.isfinite(ax.get_ylim()))
        for fmt in plots.FIGURE_FORMATS:
            assert plots.figure_bytes(figure, fmt)


def test_an_ordinary_run_says_nothing_of_clipping(results):
    assert plots.CLIP_NOTE not in texts(plots.pattern_figure(results["A"]))


# --- what the figures say ---------------------------------------------------------------------


def test_every_axis_has_its_unit(results, gallery):
    top, bottom = plots.pattern_figure(results["J"]).axes
    assert top.get_ylabel() == "membrane potential (mV)"
    assert bottom.get_ylabel() == "$I_e/C$ (V/s)" and bottom.yaxis.label.get_parse_math()
    assert bottom.get_xlabel() == "time (ms)"
    for index, (top, bottom) in enumerate(panels(gallery)):
        if index % 4 == 0:
            assert top.get_ylabel().endswith("(mV)")
            assert bottom.get_ylabel().endswith("(V/s)")
        if index >= 16:
            assert bottom.get_xlabel() == "time (ms)"


def test_the_subtitle_names_the_overrides_and_counts_in_words(results):
    changed = simulate(resolve("A").replace(a=0.01, input_scale=2))
    subtitle = texts(plots.pattern_figure(changed)).splitlines()[1]
    assert subtitle.endswith("--set a=0.01, input_scale=2")
    assert "--set" not in texts(plots.pattern_figure(results["A"]))
    assert "·  1 spike" in texts(plots.pattern_figure(results["T"]))
    assert "1 spikes" not in texts(plots.pattern_figure(results["T"]))
    assert "·  9 spikes" in texts(plots.pattern_figure(results["A"]))


def test_the_gallery_names_shared_overrides_in_its_heading_and_others_per_panel(results):
    both = [simulate(resolve(letter).replace(A2=-0.1)) for letter in "AN"]
    shared = plots.gallery_figure(both)
    assert "--set A2=-0.1" in texts(shared)
    assert not any(child.get_text() for child in shared.axes[0].texts)
    mixed = plots.gallery_figure([both[0], results["N"]])
    assert "--set" not in texts(mixed)
    assert [child.get_text() for child in mixed.axes[0].texts] == ["--set A2=-0.1"]
    assert not mixed.axes[2].texts


def test_the_gallery_heading_counts_failed_checks(results):
    fig = plots.gallery_figure([results["A"], results["B"]], [True, False])
    assert "1 of 2 checks failed (marked in red)" in texts(fig)
    assert "failed" not in texts(plots.gallery_figure([results["A"]], [True]))
    assert "1 firing pattern" in texts(plots.gallery_figure([results["A"]], [True]))


# --- the gallery's layout ---------------------------------------------------------------------


def test_input_tick_labels_never_print_over_each_other(gallery):
    renderer = gallery.canvas.get_renderer()
    for _, bottom in panels(gallery):
        boxes = [label.get_window_extent(renderer) for label in bottom.get_yticklabels()
                 if label.get_visible() and label.get_text()]
        assert boxes
        for a, b in itertools.combinations(boxes, 2):
            assert not overlap(a, b), [label.get_text() for label in bottom.get_yticklabels()]
    j_ticks = panels(gallery)[LETTERS.index("J")][1]
    assert list(j_ticks.get_yticks()) == [0.0, 1.7]
    assert 1.5 in j_ticks.yaxis.get_minorticklocs()  # still marked, not labelled


def threshold_labels(ax):
    """The V axis's tick labels drawn in the threshold's colour, as text."""
    return [label.get_text() for label in ax.get_yticklabels()
            if matplotlib.colors.same_color(label.get_color(), TH_COLOR)]


def test_the_threshold_at_rest_is_labelled_on_every_v_axis_that_shows_it(gallery, results):
    for letter, (top, _) in zip(LETTERS, panels(gallery), strict=True):
        low, high = top.get_ylim()
        rest = results[letter].preset.params["V_th_inf"]
        assert threshold_labels(top) == (["−50"] if low <= rest <= high else []), letter
        labels = [label for label in top.get_yticklabels() if label.get_text()]
        boxes = [label.get_window_extent() for label in labels]
        for a, b in itertools.combinations(boxes, 2):
            assert not overlap(a, b), (letter, [label.get_text() for label in labels])
    for letter in "AB":  # their V axis went -64, -56, -48: the threshold was never named
        fig = plots.pattern_figure(results[letter])
        fig.canvas.draw()
        assert threshold_labels(fig.axes[0]) == ["−50"]


def test_tick_labels_are_at_least_9_points_in_the_gallery_and_the_pattern_figures(gallery,
                                                                               results):
    fig = plots.pattern_figure(results["M"])
    fig.canvas.draw()
    for ax in [*gallery.axes, *fig.axes]:
        labels = [label for label in ax.get_xticklabels() + ax.get_yticklabels()
                  if label.get_visible() and label.get_text()]
        for label in labels:
            assert label.get_fontsize() >= 9, (ax.get_label(), label.get_text())


def test_a_zoom_below_the_traces_leaves_them_two_thirds_of_the_panel(gallery):
    top, _ = panels(gallery)[LETTERS.index("L")]  # L's traces fill its panel: no room beside
    panel = top.get_window_extent()
    lowest = display_points(top)[:, 1].min()
    assert top.child_axes[0].get_window_extent().y0 < lowest  # the band below them holds it
    assert (panel.y1 - lowest) / panel.height >= 0.6  # 0.48 with the full-size inset


def test_the_check_failed_flag_never_meets_the_letter_or_the_title(gallery):
    renderer = gallery.canvas.get_renderer()
    for top, _ in panels(gallery):
        flag = top._right_title
        assert flag.get_text() == "check failed"
        box = flag.get_window_extent(renderer)
        for title in (top.title, top._left_title):
            assert not overlap(box, title.get_window_extent(renderer)), title.get_text()
        assert top.title.get_window_extent(renderer).x0 > \
            top._left_title.get_window_extent(renderer).x1


def display_points(ax):
    """Every sample of the panel's lines, in display pixels."""
    return np.concatenate([ax.transData.transform(line.get_xydata()) for line in ax.lines])


def test_crowded_bursts_and_narrow_pulses_get_a_zoom_that_hides_no_data(gallery, results):
    zoomed = {letter for letter, (top, _) in zip(LETTERS, panels(gallery), strict=True)
              if top.child_axes}
    assert zoomed == {"L", "O", "S"}
    for letter in "LOS":
        top = panels(gallery)[LETTERS.index(letter)][0]
        inset = top.child_axes[0]
        box = inset.get_window_extent()
        points = display_points(top)
        inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                  & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
        assert not inside.any(), letter
        if letter in "LO":  # the burst's marks are told apart in the zoom
            marks = inset.collections[0].get_segments()
            xs = inset.transData.transform([(segment[0][0], 0) for segment in marks])[:, 0]
            assert len(xs) >= 5 and np.diff(np.sort(xs)).min() > 3.0  # px at 110 dpi
    s_inset = panels(gallery)[LETTERS.index("S")][0].child_axes[0]
    low, high = s_inset.get_xlim()
    assert low < 0.0 and high > 15.0  # both of S's first pulses, 0-5 and 10-15 ms
    assert results["O"].n_spikes == 7


def test_data_at_time_zero_stays_clear_of_the_axis_line(gallery):
    renderer = gallery.canvas.get_renderer()
    _, bottom = panels(gallery)[LETTERS.index("S")]
    spine = bottom.spines["left"].get_window_extent(renderer)
    first_pulse = bottom.transData.transform((0.0, 5.0))[0]
    assert first_pulse - spine.x1 >= 3.0


def test_the_gallery_legend_shows_spikes_even_when_the_first_panel_has_none(results):
    silent = simulate(resolve("A").replace(input_scale=0))
    fig = plots.gallery_figure([silent, results["A"]])
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels == ["membrane $V$", r"threshold $V_\mathrm{th}$", "spike", "input $I_e/C$"]


# --- V at each spike --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["exact", "euler", "exp-euler"])
def test_v_is_drawn_up_to_the_threshold_and_down_to_the_reset_at_each_spike(method):
    result = simulate(resolve("R"), method, 2.5)
    top = plots.pattern_figure(result).axes[0]
    v_path = top.lines[0].get_xydata()
    reset = result.preset.params["V_reset"]
    threshold = np.interp(result.spike_times, result.t, result.V_th)
    marks = top.collections[0].get_segments()
    assert result.n_spikes > 20
    for spike, level, mark in zip(result.spike_times, threshold, marks, strict=True):
        at_spike = v_path[v_path[:, 0] == spike, 1]
        assert level in at_spike and reset in at_spike  # up to threshold, then the reset
        assert mark[0][0] == spike and mark[0][1] == level  # the mark starts where V ends
    assert v_path[:, 1].max() >= result.V.max()


# --- files ------------------------------------------------------------------------------------


def png_text(data: bytes) -> dict[str, str]:
    """The tEXt and iTXt chunks of a PNG."""
    chunks, at = {}, 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            chunks[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")  # language
            _, _, value = rest.partition(b"\0")  # translated key
            chunks[key.decode()] = (zlib.decompress(value) if compressed else value).decode()
        at += 12 + length
    return chunks


def test_png_svg_pdf_carry_the_version_and_the_command_but_no_date(results):
    fig = plots.pattern_figure(results["A"])
    command = "gif run A --out f\x1b[2J ü"
    printable = "gif run A --out f\\x1b[2J ü"
    png = plots.figure_bytes(fig, "png", command=command)
    assert png_text(png) == {"Title": "A  Tonic spiking", "Software": f"gifcli {__version__}",
                             "Comment": printable}
    svg = plots.figure_bytes(fig, "svg", command=command).decode()
    assert f"<dc:description>{printable}</dc:description>" in svg
    assert f"<dc:title>gifcli {__version__}</dc:title>" in svg and "<dc:date>" not in svg
    pdf = plots.figure_bytes(fig, "pdf", command="gif run A")
    assert b"/Creator (gifcli " + __version__.encode() + b")" in pdf
    assert b"/Subject (gif run A)" in pdf and b"/CreationDate" not in pdf
    default = png_text(plots.figure_bytes(fig, "png"))["Comment"]
    assert default == plots.command_line() == " ".join(["pytest", *sys.argv[1:]])


def test_svg_keeps_text_as_text_and_every_format_is_reproducible(results):
    for fmt in plots.FIGURE_FORMATS:
        first = plots.figure_bytes(plots.pattern_figure(results["O"]), fmt, command="c")
        again = plots.figure_bytes(plots.pattern_figure(results["O"]), fmt, command="c")
        assert first == again, fmt
    svg = plots.figure_bytes(plots.pattern_figure(results["O"]), "svg").decode()
    assert re.search(r"<text[^>]*>O  Rebound bursting</text>", svg)
    assert "font-family" in svg or "font:" in svg


def test_dpi_sets_the_png_size_and_bad_values_are_refused(results):
    fig = plots.pattern_figure(results["A"])
    for dpi, size in ((None, (1200, 660)), (300, (2400, 1320)), (75.0, (600, 330))):
        png = plots.figure_bytes(fig, "png", dpi)
        assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == size
    gallery = plots.gallery_figure([results["A"]])
    assert int.from_bytes(plots.figure_bytes(gallery, "png")[16:20], "big") == 15 * 110
    for bad in (0, -5, 10_000, float("nan"), float("inf"), True, "300"):
        with pytest.raises(GifError, match="between 30 and 600 dpi"):
            plots.figure_bytes(fig, "png", bad)
    assert plots.figure_bytes(fig, "svg", 300).startswith(b"<?xml")


def test_save_figure_writes_what_figure_bytes_gives(tmp_path, results):
    fig = plots.pattern_figure(results["A"])
    path = plots.save_figure(fig, tmp_path / "a.pdf", "pdf", 100, command="c")
    assert path.read_bytes() == plots.figure_bytes(fig, "pdf", 100, command="c")
    assert path.read_bytes().startswith(b"%PDF-")


def test_a_zoom_magnifies_even_into_a_long_run_of_pulses():
    pulses = "".join(f"  - {{amplitude: {3 * (i % 2)}, duration: 0.5}}\n" for i in range(2000))
    result = simulate(parse_preset(f"name: pulses\ninput:\n{pulses}", "p.yaml"))
    top = plots.pattern_figure(result).axes[0]
    low, high = top.child_axes[0].get_xlim()
    assert high - low < 0.01 * result.duration  # its first segments, not all 1000 ms


def test_input_ticks_say_0_not_minus_0():
    result = simulate(parse_preset("name: z\ninput:\n  - {amplitude: -0.0, duration: 50}\n"
                                   "  - {amplitude: 2, duration: 50}\n", "z.yaml"))
    bottom = plots.pattern_figure(result).axes[1]
    formatter = bottom.yaxis.get_major_formatter()
    assert [formatter(tick) for tick in bottom.get_yticks()] == ["0", "2"]


@pytest.mark.parametrize(("letter", "params", "passed"),
                         [("A", {}, True), ("F", {"a": 0.0}, False)])
def test_the_pattern_figure_shows_the_verdict(letter, params, passed):
    """A run's figure says whether its check passed, and why not when it failed."""
    from gifcli.plots.pattern import FAIL_COLOR, PASS_COLOR

    result = simulate(resolve(letter).replace(**params))
    figure = plots.pattern_figure(result)
    (note,) = [t for t in figure.texts if "check " in t.get_text()]
    words = "check passed" if passed else "check failed: "
    assert words in note.get_text() and result.verdict.passed is passed
    assert note.get_color() == (PASS_COLOR if passed else FAIL_COLOR)

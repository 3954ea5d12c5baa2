"""The output files' contract (docs/cli.md): the CSV layout and its spike column, the JSON
keys, byte-identical reruns, atomic writes, and what the figures say."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import numpy as np
import pytest
from typer.testing import CliRunner

from gifcli import __version__, files, plots
from gifcli.cli import app
from gifcli.cli.runner import outcome_of
from gifcli.model.parameters import PARAMETER_NAMES
from gifcli.model.preset import resolve
from gifcli.simulation.single import simulate

HEADER = ["t_ms", "V_mV", "V_th_mV", "I1", "I2", "I_ext", "spike"]
JSON_KEYS = {"name", "title", "letter", "source", "method", "dt", "duration_ms", "params",
             "initial", "input", "spike_times_ms", "n_spikes", "features", "check", "version"}
FEATURE_KEYS = {"rate_hz", "first_spike_ms", "isi_mean_ms", "isi_cv", "n_bursts"}
CASES = [("A", "exact", None), ("M", "euler", None), ("F", "exp-euler", 0.3),
         ("S", "exact", 0.3), ("T", "exact", 0.07)]


def read_csv(data: bytes) -> tuple[list[str], np.ndarray]:
    rows = list(csv.reader(io.StringIO(data.decode("ascii"))))
    return rows[0], np.array([[float(v) for v in row] for row in rows[1:]])


# --- CSV --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref, method, dt", CASES)
def test_csv_has_the_header_one_row_per_step_and_round_trips(ref, method, dt):
    result = simulate(resolve(ref), method, dt)
    header, table = read_csv(files.csv_bytes(result))
    assert header == HEADER
    n_steps = result.t.size - 1
    assert table.shape == (n_steps + 1, 7)
    # t_ms is k dt rounded to 1e-9 ms: 0.15, not 0.15000000000000002
    np.testing.assert_array_equal(table[:, 0], np.round(np.arange(n_steps + 1) * result.dt, 9))
    for column, trace in zip(table.T[1:6], (result.V, result.V_th, result.I1, result.I2,
                                            result.I_ext), strict=True):
        np.testing.assert_array_equal(column, trace)  # bit for bit, not approximately
    assert table[:, 6].sum() == result.n_spikes  # the spike column counts


def test_t_is_written_as_a_person_writes_it():
    result = simulate(resolve("A"), "exact", 0.05)
    lines = files.csv_bytes(result).decode("ascii").split("\n")
    assert [line.split(",")[0] for line in lines[1:5]] == ["0.0", "0.05", "0.1", "0.15"]
    assert "0.15000000000000002" not in lines[4]


def test_two_spikes_in_one_step_count_two():
    """R at dt 2.5 fires twice within some steps: the column still sums to n_spikes."""
    result = simulate(resolve("R"), "exact", 2.5)
    counts = files.spike_counts(result.spike_times, result.dt, result.t.size - 1)
    assert counts.max() >= 2
    _, table = read_csv(files.csv_bytes(result))
    assert table[:, 6].sum() == result.n_spikes == counts.sum()


@pytest.mark.parametrize("ref, method, dt", CASES)
def test_spike_column_counts_in_the_first_row_at_or_after_each_spike(ref, method, dt):
    result = simulate(resolve(ref), method, dt)
    _, table = read_csv(files.csv_bytes(result))
    t, marked = table[:, 0], np.flatnonzero(table[:, 6])
    expected = set()
    for spike in result.spike_times:
        row = int(np.searchsorted(t, spike - 1e-9 * result.dt))  # first t >= spike (tolerant)
        expected.add(row)
        assert t[row] >= spike - 1e-9 and (row == 0 or t[row - 1] < spike)
    assert set(marked.tolist()) == expected
    assert result.n_spikes > 0
    if method != "exact":  # fixed-step spikes are grid times: each marks its own row
        np.testing.assert_allclose(t[marked], result.spike_times, rtol=0, atol=1e-12)


def test_spike_count_rules():
    dt = 0.1
    counts = files.spike_counts(np.array([0.3, 0.30000000000000004, 0.7 - 1e-13, 0.71, 0.79,
                                          1.0]), dt, 10)
    # 3 * 0.1 is not exactly 0.3; both still count in row 3. 0.7 - 1e-13 is on the grid
    # within the tolerance; 0.71 and 0.79 both count in row 8; a spike at the end in the last.
    assert counts.tolist() == [0, 0, 0, 2, 0, 0, 0, 1, 2, 0, 1]
    assert files.spike_counts(np.array([0.3000001]), dt, 10).nonzero()[0].tolist() == [4]
    assert not files.spike_counts(np.array([]), dt, 10).any()


def test_reset_values_show_after_a_spike():
    result = simulate(resolve("A"), "euler")
    _, table = read_csv(files.csv_bytes(result))
    marked = np.flatnonzero(table[:, 6])
    assert np.all(table[marked, 1] == resolve("A").params["V_reset"])


# --- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref, method, dt", CASES)
def test_json_summary_keys_and_values(ref, method, dt):
    outcome = outcome_of(simulate(resolve(ref), method, dt))
    data = json.loads(files.json_bytes(outcome.summary()))
    preset, result = outcome.result.preset, outcome.result
    assert set(data) >= JSON_KEYS
    assert (data["name"], data["letter"], data["source"]) == (preset.name, preset.letter,
                                                              preset.source)
    assert (data["method"], data["dt"]) == (method, result.dt)
    assert data["duration_ms"] == preset.duration
    assert list(data["params"]) == list(PARAMETER_NAMES)
    assert data["params"] == preset.params
    assert set(data["initial"]) == {"V", "V_th", "I1", "I2"}
    assert data["input"] == [{"amplitude": a, "duration": d} for a, d in preset.segments]
    assert data["spike_times_ms"] == result.spike_times.tolist()  # full float64 precision
    assert data["n_spikes"] == result.n_spikes == len(data["spike_times_ms"])
    assert set(data["features"]) == FEATURE_KEYS
    assert data["features"]["first_spike_ms"] == result.spike_times[0]
    assert data["check"] == {"passed": True, "reason": outcome.verdict.reason,
                             "margin": outcome.verdict.margin.relative,
                             "margin_condition": str(outcome.verdict.margin)}
    assert data["check"]["margin"] > 0
    assert data["version"] == __version__


def test_json_of_a_user_file_without_check_or_spikes(tmp_path):
    path = tmp_path / "quiet.yaml"
    path.write_text("name: quiet\ninput:\n  - {amplitude: 0.0, duration: 20}\n")
    outcome = outcome_of(simulate(resolve(str(path))))
    data = json.loads(files.json_bytes(outcome.summary()))
    assert data["letter"] is None and data["check"] is None
    assert data["spike_times_ms"] == [] and data["n_spikes"] == 0
    assert data["features"]["first_spike_ms"] is None and data["features"]["isi_cv"] is None


def test_json_bytes_are_valid_json_without_nan():
    text = files.json_bytes({"a": float("nan"), "b": [float("inf"), 1.5], "c": np.float64(2)})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": 2.0}
    assert text.endswith(b"\n")


# --- the same inputs give the same bytes --------------------------------------------------------


def test_two_runs_write_identical_csv_and_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in ("one", "two"):
        result = CliRunner().invoke(app, ["run", "A", "P", "F", "--format", "csv,json,svg",
                                          "--out", folder, "--quiet", "--set", "b=0.012"])
        assert result.exit_code == 0, result.output
    for name in ("tonic_spiking.csv", "tonic_spiking.json", "mixed_mode.csv",
                 "mixed_mode.json", "threshold_variability.json", "tonic_spiking.svg"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


# --- atomic writes ----------------------------------------------------------------------------


def test_write_atomic_replaces_whole_files_with_normal_permissions(tmp_path):
    target = tmp_path / "x.json"
    files.write_atomic(target, b"first")
    files.write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["x.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "x.csv"
    target.write_bytes(b"old, complete")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(target, b"new")
    assert target.read_bytes() == b"old, complete"
    assert os.listdir(tmp_path) == ["x.csv"]


def test_a_write_that_fails_is_an_output_error(tmp_path):
    with pytest.raises(files.OutputError, match="cannot write"):
        files.write_atomic(tmp_path / "no" / "such" / "folder.csv", b"x")


def test_check_out_dir(tmp_path):
    files.check_out_dir(tmp_path)  # exists
    files.check_out_dir(tmp_path / "new" / "deeper")  # can be created
    assert not (tmp_path / "new").exists()  # ...but was not
    (tmp_path / "f").write_text("")
    with pytest.raises(files.OutputError, match="is a file, not a folder"):
        files.check_out_dir(tmp_path / "f")
    with pytest.raises(files.OutputError, match="cannot be created: .*f is a file"):
        files.check_out_dir(tmp_path / "f" / "sub")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(files.OutputError, match="broken symbolic link"):
        files.check_out_dir(tmp_path / "dangling" / "sub")


# --- figures ----------------------------------------------------------------------------------


def test_pattern_figure_says_what_it_shows():
    result = simulate(resolve("L"), "exact")
    fig = plots.pattern_figure(result)
    top, bottom = fig.axes
    texts = " ".join(text.get_text() for text in fig.texts)
    assert "L  Hyperpolarization-induced bursting" in texts
    assert "hyperpolarization_induced_bursting" in texts and "exact" in texts
    assert "dt = 0.1 ms" in texts
    assert "(mV)" in top.get_ylabel() and bottom.get_xlabel() == "time (ms)"
    assert top.get_xlim() == bottom.get_xlim() == (0.0, 500.0)
    spikes = top.collections[0].get_segments()  # one vertical mark per spike
    assert [segment[0][0] for segment in spikes] == result.spike_times.tolist()
    png = plots.figure_bytes(fig, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1200, 660)


def test_gallery_is_lettered_a_to_t_with_the_input_under_each_panel():
    presets = [resolve(letter) for letter in "ABCDEFGHIJKLMNOPQRST"]
    results = [simulate(p) for p in presets]
    fig = plots.gallery_figure(results, [True] * 19 + [False])
    assert len(fig.axes) == 40  # a trace panel and an input panel for each
    letters = [ax.get_title(loc="left") for ax in fig.axes[::2]]
    assert letters == list("ABCDEFGHIJKLMNOPQRST")
    assert fig.axes[0].get_title() == "Tonic spiking"
    assert fig.axes[-2].get_title(loc="right") == "check failed"
    assert fig.axes[0].get_title(loc="right") == ""


def test_figure_files_do_not_change_between_runs(tmp_path):
    result = simulate(resolve("A"))
    for fmt in plots.FIGURE_FORMATS:
        first = plots.figure_bytes(plots.pattern_figure(result), fmt)
        second = plots.figure_bytes(plots.pattern_figure(result), fmt)
        assert first == second
    path = plots.save_figure(plots.pattern_figure(result), tmp_path / "a.svg", "svg")
    assert path.read_bytes().startswith(b"<?xml")
    with pytest.raises(ValueError, match="png"):
        plots.figure_bytes(plots.pattern_figure(result), "gif")



"""Shared fixtures for the numerics tests (issue 2).

- ``shipped``: the 20 shipped presets by letter, parsed once per session.
- OPENBLAS_NUM_THREADS=1 unless already set: the reference integrator calls scipy's expm on
  4 x 4 matrices thousands of times, and multi-threaded OpenBLAS on a busy 2-core machine
  makes each call take ~15 ms instead of ~40 µs. It must be set before numpy is imported.
- the ``slow`` marker: the tests of :data:`SLOW` (and any marked in their file). ``make test``
  deselects them (``-m "not slow"``), ``make test-slow`` runs them alone, ``.ci/run`` both.
- every kernel compiled once at the start (``gifcli.cli.warmup``), so that on a fresh clone the
  many tests that start ``gif`` in a subprocess load Numba's cache instead of each compiling
  (and timing or measuring the compiler).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from gifcli.model.preset import shipped_presets  # noqa: E402

#: The tests that take 5 s or more each (all their parameters), from the whole suite's
#: ``--durations`` on a quiet machine: 830 s of its 1,190. Named here, by file and function,
#: rather than marked in each file; tests/test_first_hour.py checks that each still exists.
SLOW = {
    "test_cluster.py": ("test_ten_million_points_keep_the_client_under_a_gigabyte",
                        "test_ctrl_c_then_resume_gives_the_same_store_computing_only_the_rest",
                        "test_a_worker_killed_in_mid_run_loses_nothing",
                        "test_all_workers_killed_in_mid_run_is_one_sentence_not_a_wait",
                        "test_an_external_cluster_gives_the_in_process_grid",
                        "test_a_store_of_another_sweep_is_refused_not_overwritten",
                        "test_local_workers_give_the_in_process_grid"),
    "test_cluster_faults.py": ("test_a_server_that_accepts_and_never_answers_is_one_sentence",
                               "test_a_chunk_that_kills_its_worker_again_and_again_is_one_sentence",
                               "test_a_scheduler_killed_in_mid_run_is_one_sentence",
                               "test_a_local_worker_killed_in_mid_run_leaves_no_warning_on_a_"
                               "finished_run"),
    "test_export.py": ("test_random_neurons_and_schedules_brian2_matches_both_ways",
                       "test_brian2_exact_spike_counts_first_spike_and_grid_reset_steps_on_all_20",
                       "test_brainpy_gives_gifcli_exp_euler_spike_steps",
                       "test_brian2_euler_gives_gifcli_spike_steps_on_all_20",
                       "test_every_export_compiles_or_parses",
                       "test_the_brian2_network_example_of_docs_export_md_runs"),
    "test_fit.py": ("test_a_jittered_target_still_gives_the_original_train",
                    "test_the_same_seed_gives_the_same_bytes_and_another_seed_another_search"),
    "test_fuzz.py": ("test_garbage_under_the_right_keys_loads_or_raises_preset_error",
                     "test_mutated_presets_load_or_raise_preset_error"),
    "test_hostile.py": ("test_a_stdout_that_cannot_take_unicode_still_gets_the_table",
                        "test_a_file_named_like_a_preset_is_named_in_a_warning"),
    "test_install.py": ("test_wheel_holds_the_modules_and_the_presets",),
    "test_interrupt.py": ("test_run_all_interrupted_while_writing",
                          "test_run_all_interrupted_in_the_middle_of_a_file",
                          "test_long_sweep_interrupted_while_computing_leaves_nothing",
                          "test_a_signal_at_a_random_moment",
                          "test_sweep_interrupted_while_writing"),
    "test_no_miss.py": ("test_coarse_and_fine_dt_agree_around_every_preset",),
    "test_outputs.py": ("test_figure_files_do_not_change_between_runs",),
    "test_plots.py": ("test_a_hostile_matplotlib_setup_changes_no_byte",
                      "test_extreme_finite_values_draw_and_the_figure_says_they_were_clipped",
                      "test_svg_keeps_text_as_text_and_every_format_is_reproducible"),
    "test_properties.py": ("test_coincident_rates_fire_as_the_reference",
                           "test_coincident_rates_follow_the_closed_form",
                           "test_exact_resets_at_the_crossing"),
    "test_runaway.py": ("test_extreme_values_finish_finite_or_with_a_clear_error",
                        "test_endless_firing_hits_the_spike_cap_for_every_method",
                        "test_exact_with_a_tiny_time_constant_finishes",
                        "test_exact_stops_at_the_per_step_cap"),
    "test_sweep.py": ("test_fi_curves_of_many_presets_keep_their_colours_and_onsets",
                      "test_cli_sweep_over_the_whole_float_range"),
    "test_tutorial.py": ("test_the_tutorial_runs_and_shows_figures_tables_and_the_explorer",),
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes 5 s or more (make test leaves it to "
                            "make test-slow; .ci/run runs both)")
    handle_signals_as_a_terminal_does()


def handle_signals_as_a_terminal_does() -> None:
    """The suite sends Ctrl-C, SIGTERM and SIGHUP to gif and to itself. A shell that starts
    it in the background ignores SIGINT (and nohup SIGHUP), which gif rightly keeps ignored,
    and so would the gif processes the tests start: give them Python's usual handling."""
    import signal

    for signum, handler in ((signal.SIGINT, signal.default_int_handler),
                            (signal.SIGTERM, signal.SIG_DFL), (signal.SIGHUP, signal.SIG_DFL)):
        if signal.getsignal(signum) == signal.SIG_IGN:
            signal.signal(signum, handler)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if getattr(item, "originalname", None) in SLOW.get(item.path.name, ()):
            item.add_marker(pytest.mark.slow)


def pytest_sessionstart(session):
    from gifcli.cli import warmup

    warmup.warm_everything()


@pytest.fixture(scope="session")
def shipped():
    """The shipped presets, by letter (A to T)."""
    return {preset.letter: preset for preset in shipped_presets()}

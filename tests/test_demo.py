"""`python -m fastloss demo`: output, the robustness it demonstrates, and its options."""

import argparse
import io
import re
import subprocess
import sys

import pytest

from fastloss import _cli, _demo

LOSSES = ("MSE", "MAE", "Huber")


def parse_options(*argv):
    parser = argparse.ArgumentParser()
    _demo.add_arguments(parser)
    return parser.parse_args(argv)


def run_regression(*argv):
    """(printed text, {loss: held-out errors}) of the regression task."""
    stream = io.StringIO()
    options = parse_options("--task", "regression", *argv)
    results = _demo.run_tasks(options, _demo.Report(stream, quiet=options.quiet))
    return stream.getvalue(), results["regression"]


def log_rows(text):
    """{iteration: [training loss per model]} from the training log."""
    rows = re.findall(r"^(\d+)((?:\s+\d+\.\d+){3})$", text, flags=re.MULTILINE)
    return {int(it): [float(v) for v in values.split()] for it, values in rows}


def table_rows(text):
    """{loss: [MAE, RMSE, mean error]} from the final table."""
    rows = re.findall(r"^(MSE|MAE|Huber)\s+(\S+)\s+(\S+)\s+(\S+)$", text, flags=re.MULTILINE)
    return {name: [float(v) for v in values] for name, *values in rows}


def test_command_prints_training_log_table_and_takeaway(capsys):
    assert _cli.main(["demo", "--iterations", "60", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^iteration\s+MSE\s+MAE\s+Huber$", text, flags=re.MULTILINE)
    log = log_rows(text)
    assert set(log) == _demo.logged_iterations(60)
    assert {1, 60} <= set(log)
    for model in range(3):  # every model's training loss went down
        assert log[60][model] < log[1][model]
    assert re.search(r"^loss\s+MAE\s+RMSE\s+mean error$", text, flags=re.MULTILINE)
    assert set(table_rows(text)) == set(LOSSES)
    assert "Takeaway:" in text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_huber_and_mae_beat_mse_on_clean_held_out_data(seed):
    text, results = run_regression("--iterations", "80", "--seed", str(seed))
    for robust in ("MAE", "Huber"):
        assert results[robust]["mae"] * 3 < results["MSE"]["mae"]
        assert results[robust]["rmse"] * 3 < results["MSE"]["rmse"]
    # The x10 outliers pull MSE's predictions up; the robust fits barely move.
    assert results["MSE"]["bias"] > 5 * max(abs(results[n]["bias"]) for n in ("MAE", "Huber"))
    # The printed table and the takeaway carry these numbers.
    printed = table_rows(text)
    for name in LOSSES:
        expected = [results[name][key] for key in ("mae", "rmse", "bias")]
        assert printed[name] == pytest.approx(expected, abs=0.051)
    takeaway = text[text.index("Takeaway:"):].replace("\n", " ")
    assert f"{results['MSE']['mae']:.1f} k-euro" in takeaway
    assert f"{results['MSE']['mae'] / results['MAE']['mae']:.1f}x MAE's" in takeaway


def test_without_outliers_the_losses_agree():
    text, results = run_regression("--iterations", "80", "--outlier-share", "0")
    errors = [results[name]["mae"] for name in LOSSES]
    assert max(errors) < 1.05 * min(errors)
    assert "end up within" in text


def test_seed_makes_runs_reproducible():
    _, first = run_regression("--iterations", "20", "--seed", "7")
    _, again = run_regression("--iterations", "20", "--seed", "7")
    _, other = run_regression("--iterations", "20", "--seed", "8")
    assert first == again
    assert first != other


def test_quiet_omits_the_training_log():
    text, _ = run_regression("--iterations", "20", "--quiet")
    assert not log_rows(text)
    assert "Training loss" not in text
    assert set(table_rows(text)) == set(LOSSES)


def test_takeaway_without_a_clear_winner_ranks_the_losses():
    results = {"MSE": 20.0, "MAE": 18.0, "Huber": 30.0}
    text = _demo.regression_takeaway(
        {name: {"mae": mae, "bias": 0.0} for name, mae in results.items()}, 0.05
    )
    assert "ranks the losses MAE 18.0, MSE 20.0, Huber 30.0" in text


@pytest.mark.parametrize(
    "argv",
    [["--outlier-share", "0.5"], ["--outlier-share", "nan"], ["--iterations", "0"],
     ["--task", "nonsense"]],
)
def test_bad_options_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["demo", *argv])
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_help_explains_the_options():
    result = subprocess.run(
        [sys.executable, "-P", "-m", "fastloss", "demo", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--task", "--seed", "--iterations", "--outlier-share", "--quiet"):
        assert option in result.stdout
    assert "value_and_gradient" in result.stdout

"""`python -m fastloss demo`: every task on --quick data, what each one demonstrates,
its verdict drawn from its own numbers, the plots and the options."""

import argparse
import io
import re
import struct
import subprocess
import sys

import pytest

from fastloss._cli import demo as _demo
from fastloss._cli import main as _cli

pytestmark = pytest.mark.one_kernel_set

TASK_NAMES = ("regression", "binary", "multiclass", "embedding", "ranking", "overfitting",
              "exploding", "vanishing", "plateau", "mse-classification", "boosting")


def parse_options(*argv):
    parser = argparse.ArgumentParser()
    _demo.add_arguments(parser)
    return parser.parse_args(argv)


def run_task(task, *argv, quick=True):
    """(printed text, results) of one task."""
    stream = io.StringIO()
    options = parse_options("--task", task, *(["--quick"] if quick else []), *argv)
    results = _demo.run_tasks(options, _demo.Report(stream, quiet=options.quiet,
                                                    plots=options.plots))
    assert list(results) == [task]
    return stream.getvalue(), results[task]


@pytest.fixture(scope="module")
def quick_run():
    """Every task once on --quick data (shared by the tests below)."""
    stream = io.StringIO()
    options = parse_options("--quick", "--seed", "0")
    results = _demo.run_tasks(options, _demo.Report(stream))
    return stream.getvalue(), results


def sections(text):
    """{task name: its part of the output}, split at the "== name: ... ==" titles."""
    parts = re.split(r"^== ([\w-]+): .* ==$", text, flags=re.MULTILINE)
    assert parts[0] == ""
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def verdict(text):
    return text[text.index("Takeaway:"):].replace("\n", " ")


def table_rows(text, names):
    """{row name: [numbers]} from a printed table ("%" dropped, "-" as None)."""
    pattern = "|".join(re.escape(name) for name in names)
    rows = re.findall(rf"^({pattern})((?:\s+(?:[-+]?[\d.]+(?:e[-+]\d+)?%?|-|never|inf|-inf))+)$",
                      text, flags=re.MULTILINE)

    def number(cell):
        return None if cell in ("-", "never") else float(cell.rstrip("%"))

    return {name: [number(v) for v in values.split()] for name, values in rows}


def test_registry_holds_every_task():
    assert tuple(_demo.TASKS) == TASK_NAMES
    for name, task in _demo.TASKS.items():
        assert task.name == name and task.summary and callable(task.run)
    with pytest.raises(ValueError, match="already called"):
        _demo.register(_demo.Task("binary", "again", lambda options, report: {}))


def test_every_task_prints_a_table_and_one_verdict(quick_run):
    text, results = quick_run
    by_task = sections(text)
    assert tuple(by_task) == TASK_NAMES == tuple(results)
    for task, part in by_task.items():
        if task == "boosting" and not results["boosting"]:
            assert "pip install" in part  # neither LightGBM nor XGBoost: how to enable it
            continue
        assert part.count("Takeaway:") == 1, task
        assert re.search(r"^-+(\s+-+)+$", part, flags=re.MULTILINE), task  # a table rule
        if task != "boosting":  # boosters train by rounds, not epochs
            assert "loss per epoch" in part, task  # the training log


def test_loss_comparisons_keep_their_findings(quick_run):
    _, results = quick_run
    regression = results["regression"]
    for robust in ("MAE", "Huber"):
        assert regression[robust]["mae"] * 2 < regression["MSE"]["mae"]
        assert regression[robust]["r2"] > regression["MSE"]["r2"]
    binary = results["binary"]
    for name in ("weighted CE", "focal"):
        assert binary[name]["recall"] > binary["CE"]["recall"] + 0.1
        assert binary[name]["flagged"] > binary["CE"]["flagged"]
    assert min(r["roc_auc"] for r in binary.values()) > 0.9
    plain, robust = results["multiclass"].values()
    assert robust["accuracy"] > plain["accuracy"] + 0.02
    assert plain["errors_to_next"] > robust["errors_to_next"]
    embedding = results["embedding"]
    for name in _demo.STRATEGIES:
        assert embedding[name]["recall@1"] > embedding["before"]["recall@1"] + 0.3
    ranking = results["ranking"]
    for name in ("ListwiseSoftmax", f"LambdaRank@{_demo.NDCG_K}"):
        assert ranking[name]["ndcg"] > ranking["before"]["ndcg"] + 0.2


def test_binary_table_and_verdict_carry_the_metrics(quick_run):
    text, results = quick_run
    part = sections(text)["binary"]
    printed = table_rows(part, ("CE", "weighted CE", "focal"))
    for name, r in results["binary"].items():
        expected = [r[k] for k in ("accuracy", "precision", "recall", "f1", "roc_auc",
                                   "average_precision", "flagged")]
        assert printed[name] == pytest.approx(expected, abs=0.0006)
    assert f"finds only {results['binary']['CE']['recall']:.0%}" in verdict(part)


def test_overfitting_is_caught_by_early_stopping(quick_run):
    text, results = quick_run
    full, stopped = results["overfitting"]["all epochs"], results["overfitting"]["early stopping"]
    # Validation loss turned up after its best epoch: the network overfits.
    assert full["last_val_loss"] > 1.2 * full["min_val_loss"]
    assert full["train_loss"] < full["min_val_loss"]
    # Early stopping fired patience epochs after the best one and restored it.
    assert stopped["stopped_epoch"] == stopped["best_epoch"] + _demo.OVERFIT_PATIENCE
    assert stopped["epochs"] < full["epochs"]
    assert stopped["rmse"] < full["rmse"]
    summary = verdict(sections(text)["overfitting"])
    assert f"kept epoch {stopped['best_epoch'] + 1}" in summary
    assert f"{full['rmse']:.3f}" in summary and f"{stopped['rmse']:.3f}" in summary


def test_exploding_gradients_diverge_and_clipping_tames_them(quick_run):
    text, results = quick_run
    raw, clipped, standardized = results["exploding"].values()
    assert raw["diverged_epoch"] is not None
    assert any("exploding gradients" in m for m in raw["warnings"])
    assert clipped["diverged_epoch"] is None and clipped["rmse"] < 100
    assert standardized["diverged_epoch"] is None
    summary = verdict(sections(text)["exploding"])
    assert f"overflowed at epoch {raw['diverged_epoch'] + 1}" in summary
    assert f"RMSE {clipped['rmse']:.1f}" in summary


def test_vanishing_gradients_in_sigmoid_but_not_relu(quick_run):
    text, results = quick_run
    sig, relu = results["vanishing"]["sigmoid"], results["vanishing"]["relu"]
    assert sig["ratio"] < 1e-3 < relu["ratio"]
    assert sig["vanishing"] and not relu["vanishing"]
    assert any("relu" in m for m in sig["warnings"])
    assert relu["accuracy"] > sig["accuracy"] + 0.1
    assert f"{sig['ratio']:.1e} times" in verdict(sections(text)["vanishing"])


def test_plateau_sgd_stuck_adam_and_rmsprop_leave(quick_run):
    text, results = quick_run
    runs = results["plateau"]
    sgd = runs["SGD lr 0.5"]
    for name in ("RMSprop lr 0.01", "Adam lr 0.05"):
        assert runs[name]["escape_epoch"] is not None
        assert sgd["escape_epoch"] is None or runs[name]["escape_epoch"] < sgd["escape_epoch"]
        assert runs[name]["val_loss"] < sgd["val_loss"]
    # Reduce-on-plateau mistakes the saddle's flat loss for convergence under SGD.
    assert runs["SGD + ReduceLROnPlateau"]["reductions"]
    assert runs["SGD + ReduceLROnPlateau"]["final_lr"] < 0.5
    assert "no cure for a saddle" in verdict(sections(text)["plateau"])


def test_mse_for_classification_loses_to_cross_entropy(quick_run):
    text, results = quick_run
    mse, ce = results["mse-classification"]["MSE on 0/1"], results["mse-classification"][
        "cross-entropy"]
    assert ce["accuracy"] > mse["accuracy"] + 0.01
    assert ce["log_loss"] < mse["log_loss"]
    # The easy points tilt MSE's boundary; cross-entropy's stays nearly upright.
    assert abs(mse["weights"][1] / mse["weights"][0]) > 3 * abs(
        ce["weights"][1] / ce["weights"][0])
    assert f"{ce['accuracy']:.1%}" in verdict(sections(text)["mse-classification"])


def test_verdicts_follow_the_numbers():
    # Regression: no clear winner -> the losses are ranked.
    text = _demo.regression_takeaway(
        {n: {"mae": m, "bias": 0.0} for n, m in {"MSE": 20.0, "MAE": 18.0, "Huber": 30.0}
         .items()}, 0.05)
    assert "ranks the losses MAE 18.0, MSE 20.0, Huber 30.0" in text
    # MSE for classification: no difference -> said so.
    same = {"accuracy": 0.9, "recall": 0.9, "log_loss": 0.3, "weights": [1.0, 0.0]}
    text = _demo.mse_classification_takeaway({"MSE on 0/1": same, "cross-entropy": same})
    assert "no clear difference" in text


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_plots_option_writes_loss_curves(tmp_path):
    pytest.importorskip("matplotlib")
    folder = tmp_path / "curves"
    text, _ = run_task("mse-classification", "--plots", str(folder), "--quiet")
    path = folder / "mse_classification.png"
    assert f"Loss curves: {path}" in text
    assert png_size(path) == (1000, 360)


def test_quiet_omits_the_training_log():
    text, _ = run_task("exploding", "--quiet")
    assert "loss per epoch" not in text and "fit warned" not in text
    assert text.count("Takeaway:") == 1


def test_seed_makes_runs_reproducible():
    _, first = run_task("binary", "--seed", "7")
    _, again = run_task("binary", "--seed", "7")
    _, other = run_task("binary", "--seed", "8")
    assert first == again and first != other


@pytest.mark.parametrize(
    "argv",
    [["--outlier-share", "0.5"], ["--outlier-share", "nan"], ["--task", "nonsense"],
     ["--label-noise", "0.5"], ["--label-noise", "-0.1"], ["--seed", "x"]],
)
def test_bad_options_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["demo", *argv])
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


@pytest.mark.parametrize("seed", ["-5", "1e400", "2.5"])
def test_seed_must_be_a_non_negative_integer(seed, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["demo", "--task", "plateau", "--quick", "--quiet", "--seed", seed])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"python -m fastloss demo: error: argument --seed: expected an integer >= 0, "
        f"got {seed!r}")


def test_unwritable_plot_folder_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _cli.main(["demo", "--task", "binary", "--quick", "--plots",
                      str(blocker / "sub")]) == 2
    assert "cannot create the plot folder" in capsys.readouterr().err


def test_help_lists_every_task():
    result = subprocess.run(
        [sys.executable, "-P", "-m", "fastloss", "demo", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--task", "--seed", "--plots", "--quick", "--outlier-share",
                   "--label-noise", "--quiet"):
        assert option in result.stdout
    for task in TASK_NAMES:
        assert task in result.stdout
    assert "value_and_gradient" in result.stdout

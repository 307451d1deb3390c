"""`python -m fastloss demo`: output, what each task demonstrates, and its options."""

import argparse
import io
import re
import subprocess
import sys

import numpy as np
import pytest

from fastloss._cli import demo as _demo
from fastloss._cli import main as _cli

LOSSES = ("MSE", "MAE", "Huber")
BINARY_LOSSES = ("CE", "weighted CE", "focal")
MULTICLASS_LOSSES = ("CE", f"GCE q={_demo.GCE_Q:g}")
EMBEDDING_LOSSES = _demo.STRATEGIES
RANKING_LOSSES = ("ListwiseSoftmax", f"LambdaRank@{_demo.NDCG_K}")
TASK_NAMES = ("regression", "binary", "multiclass", "embedding", "ranking")
TASK_LOSSES = (LOSSES, BINARY_LOSSES, MULTICLASS_LOSSES, EMBEDDING_LOSSES, RANKING_LOSSES)


def parse_options(*argv):
    parser = argparse.ArgumentParser()
    _demo.add_arguments(parser)
    return parser.parse_args(argv)


def run_task(task, *argv):
    """(printed text, held-out results) of one task."""
    stream = io.StringIO()
    options = parse_options("--task", task, *argv)
    results = _demo.run_tasks(options, _demo.Report(stream, quiet=options.quiet))
    assert list(results) == [task]
    return stream.getvalue(), results[task]


def run_regression(*argv):
    return run_task("regression", *argv)


def sections(text):
    """{task name: its part of the output}, split at the "== name: ... ==" titles."""
    parts = re.split(r"^== (\w+): .* ==$", text, flags=re.MULTILINE)
    assert parts[0] == ""
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def log_rows(text, n_losses=3):
    """{iteration: [training loss per model]} from the training log."""
    rows = re.findall(
        rf"^(\d+)((?:\s+\d+\.\d+){{{n_losses}}})$", text, flags=re.MULTILINE
    )
    return {int(it): [float(v) for v in values.split()] for it, values in rows}


def table_rows(text, names=LOSSES):
    """{loss: [numbers of its row]} from the final table ("%" signs dropped)."""
    pattern = "|".join(re.escape(name) for name in names)
    rows = re.findall(rf"^({pattern})((?:\s+[-+]?[\d.]+%?)+)$", text, flags=re.MULTILINE)
    return {name: [float(v.rstrip("%")) for v in values.split()] for name, values in rows}


def takeaway(text):
    return text[text.index("Takeaway:"):].replace("\n", " ")


def test_command_runs_every_task_with_log_table_and_takeaway(capsys):
    assert _cli.main(["demo", "--iterations", "60", "--seed", "3"]) == 0
    by_task = sections(capsys.readouterr().out)
    assert tuple(by_task) == TASK_NAMES
    for task, names in zip(TASK_NAMES, TASK_LOSSES, strict=True):
        text = by_task[task]
        header = r"\s+".join(["iteration", *(re.escape(n) for n in names)])
        assert re.search(rf"^{header}$", text, flags=re.MULTILINE), task
        log = log_rows(text, len(names))
        assert set(log) == _demo.logged_iterations(60)
        for model in range(len(names)):  # every model's training loss went down
            assert log[60][model] < log[1][model]
        assert set(table_rows(text, names)) == set(names)
        assert text.count("Takeaway:") == 1


def test_task_option_runs_only_that_task(capsys):
    assert _cli.main(["demo", "--task", "binary", "--iterations", "5", "--quiet"]) == 0
    assert list(sections(capsys.readouterr().out)) == ["binary"]


# ---- regression: outliers --------------------------------------------------------

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
    summary = takeaway(text)
    assert f"{results['MSE']['mae']:.1f} k-euro" in summary
    assert f"{results['MSE']['mae'] / results['MAE']['mae']:.1f}x MAE's" in summary


def test_without_outliers_the_losses_agree():
    text, results = run_regression("--iterations", "80", "--outlier-share", "0")
    errors = [results[name]["mae"] for name in LOSSES]
    assert max(errors) < 1.05 * min(errors)
    assert "end up within" in text


def test_takeaway_without_a_clear_winner_ranks_the_losses():
    results = {"MSE": 20.0, "MAE": 18.0, "Huber": 30.0}
    text = _demo.regression_takeaway(
        {name: {"mae": mae, "bias": 0.0} for name, mae in results.items()}, 0.05
    )
    assert "ranks the losses MAE 18.0, MSE 20.0, Huber 30.0" in text


# ---- binary: a rare positive class ----------------------------------------------

def test_binary_scores_count_precision_and_recall():
    y_true = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    logits = np.array([2.0, 0.5, -1.0, -3.0, 1.0, -1.0, -2.0, -0.5, -4.0, 0.0])
    scores = _demo.binary_scores(y_true, logits)
    # Flagged (logit > 0): three, two of them positive; two of the four positives found.
    assert scores["flagged"] == 3
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 4)
    assert scores["f1"] == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    assert scores["accuracy"] == pytest.approx(7 / 10)
    nothing = _demo.binary_scores(y_true, np.full(10, -1.0))
    assert nothing["flagged"] == 0 and nothing["precision"] == nothing["f1"] == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighting_and_focal_buy_recall_of_the_rare_class_with_precision(seed):
    text, results = run_task("binary", "--iterations", "80", "--seed", str(seed))
    data = _demo.make_binary_data(seed)
    assert 0.02 < data.y_train.mean() < 0.04
    plain = results["CE"]
    for name in ("weighted CE", "focal"):
        assert results[name]["recall"] > plain["recall"] + 0.15
        assert results[name]["precision"] < plain["precision"]
        assert results[name]["flagged"] > plain["flagged"]
    # pos_weight = n_neg / n_pos balances the classes: most positives found.
    assert results["weighted CE"]["recall"] > 0.8
    # Plain cross-entropy beats the "always negative" rule on accuracy.
    assert plain["accuracy"] > 1 - data.y_test.mean()
    # The printed table and the takeaway carry these numbers.
    printed = table_rows(text, BINARY_LOSSES)
    for name in BINARY_LOSSES:
        r = results[name]
        expected = [r[key] for key in ("accuracy", "precision", "recall", "f1", "flagged")]
        assert printed[name] == pytest.approx(expected, abs=0.0006)
    pos_weight = (1 - data.y_train).sum() / data.y_train.sum()
    assert f"n_negative / n_positive = {pos_weight:.1f}" in text.replace("\n", " ")
    summary = takeaway(text)
    assert f"finds only {plain['recall']:.0%} of the {int(data.y_test.sum())}" in summary
    assert "Weighted CE trades precision for recall" in summary
    assert f"it finds {results['weighted CE']['recall']:.0%} of them" in summary
    best = max(results, key=lambda name: results[name]["f1"])
    assert f"(F1) is {best}'s {results[best]['f1']:.2f}" in summary


def test_binary_takeaway_without_a_trade_reports_the_numbers():
    scores = {"accuracy": 0.9, "precision": 0.5, "recall": 0.5, "f1": 0.5, "flagged": 10}
    better = {**scores, "precision": 0.6, "recall": 0.7, "f1": 0.65, "flagged": 12}
    text = _demo.binary_takeaway({"CE": scores, "focal": better}, 50, 1000)
    assert "trades" not in text
    assert "Focal finds 70% of them at 60% precision." in text
    assert "(F1) is focal's 0.65" in text


# ---- multiclass: noisy labels ---------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gce_resists_flipped_labels(seed):
    text, results = run_task("multiclass", "--iterations", "80", "--seed", str(seed))
    plain, robust = (results[name] for name in MULTICLASS_LOSSES)
    chance = 1 / _demo.N_CLASSES
    assert plain["accuracy"] > 3 * chance
    assert robust["accuracy"] > plain["accuracy"] + 0.04
    assert min(robust["recall"]) > 3 * chance
    # Cross-entropy learned the flips: most of its errors go to the next class.
    assert plain["errors_to_next"] > 0.7
    assert plain["errors_to_next"] > robust["errors_to_next"] + 0.1
    printed = table_rows(text, MULTICLASS_LOSSES)
    for name in MULTICLASS_LOSSES:
        r = results[name]
        expected = [r["accuracy"], *r["recall"], 100 * r["errors_to_next"]]
        assert printed[name] == pytest.approx(expected, abs=0.51)
        assert printed[name][0] == pytest.approx(r["accuracy"], abs=0.0006)
    summary = takeaway(text)
    assert f"{robust['accuracy']:.1%} of the held-out points" in summary
    assert f"against CE's {plain['accuracy']:.1%}" in summary
    assert f"{plain['errors_to_next']:.0%} of its errors" in summary


def test_with_clean_labels_ce_and_gce_agree():
    text, results = run_task("multiclass", "--iterations", "80", "--label-noise", "0")
    accuracies = [results[name]["accuracy"] for name in MULTICLASS_LOSSES]
    assert max(accuracies) - min(accuracies) < 0.01
    assert min(accuracies) > 3 / _demo.N_CLASSES
    assert "0 training labels (0%) flipped" in text.replace("\n", " ")
    assert "few or no flipped labels" in takeaway(text)


def test_label_noise_flips_that_share_to_the_next_class():
    clean = _demo.make_multiclass_data(4, 0.0)
    noisy = _demo.make_multiclass_data(4, 0.25)
    changed = clean.y_train != noisy.y_train
    assert noisy.n_flipped == changed.sum()
    assert 0.22 < changed.mean() < 0.28
    assert np.all(noisy.y_train[changed] == (clean.y_train[changed] + 1) % _demo.N_CLASSES)
    assert np.array_equal(clean.x_train, noisy.x_train)
    assert np.array_equal(clean.y_test, noisy.y_test)


# ---- embedding: metric learning for unseen classes ------------------------------

def test_recall_at_1_counts_same_label_nearest_neighbours():
    points = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [5.0, 0.2], [2.4, 0.0]])
    labels = np.array([0, 0, 1, 1, 1])
    # Nearest others: 1, 0, 3, 2 and (for the last) point 1 at 2.3, of another label.
    assert _demo.recall_at_1(labels, points) == pytest.approx(4 / 5)
    assert _demo.recall_at_1(np.array([0, 1]), points[:2]) == 0.0


def test_embedding_data_holds_out_whole_classes():
    data = _demo.make_embedding_data(5)
    assert not set(data.y_train) & set(data.y_test)
    n_features = _demo.SIGNAL_DIMS + _demo.NOISE_DIMS
    assert data.x_train.shape[1] == data.x_test.shape[1] == n_features
    assert data.initial_weights.shape == (n_features, _demo.EMBEDDING_DIM)
    # The noise features dominate raw distances: nearest neighbours are mostly wrong.
    assert _demo.recall_at_1(data.y_test, data.x_test) < 0.5
    assert _demo.recall_at_1(data.y_test, data.x_test[:, :_demo.SIGNAL_DIMS]) > 0.8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_triplet_training_lifts_recall_on_unseen_classes(seed):
    text, results = run_task("embedding", "--iterations", "80", "--seed", str(seed))
    assert results["before"] < 0.25
    for name in EMBEDDING_LOSSES:
        assert results[name] > max(0.6, results["before"] + 0.4), name
    printed = table_rows(text, ("random projection", *EMBEDDING_LOSSES))
    assert printed["random projection"] == pytest.approx([results["before"]], abs=0.0006)
    for name in EMBEDDING_LOSSES:
        assert printed[name] == pytest.approx([results[name]], abs=0.0006)
    summary = takeaway(text)
    assert f"for {results['before']:.1%} of the points" in summary
    for name in EMBEDDING_LOSSES:
        assert f"{name} {results[name]:.1%}" in summary


def test_embedding_takeaway_ranks_strategies_that_differ():
    close = _demo.embedding_takeaway(0.1, {"hard": 0.9, "semihard": 0.88, "all": 0.87})
    assert "within 3.0 points of each other" in close
    apart = _demo.embedding_takeaway(0.1, {"hard": 0.7, "semihard": 0.9, "all": 0.8})
    assert "after training, semihard 90.0%, all 80.0%, hard 70.0%" in apart
    assert "semihard does best here, hard worst" in apart


# ---- ranking: documents for queries -----------------------------------------------

def test_ndcg_at_k_on_small_lists():
    relevance = np.array([[3.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    gains, discounts = np.array([7.0, 0.0, 1.0]), 1 / np.log2([2.0, 3.0, 4.0])
    ideal = 7.0 * discounts[0] + 1.0 * discounts[1]
    # Ranked by score: item 1 (gain 0), item 2 (gain 1), item 0 (gain 7).
    scores = np.array([[0.0, 2.0, 1.0], [5.0, 1.0, 0.0]])
    dcg = gains[[1, 2, 0]] @ discounts
    # The list without relevant items counts as 1.
    assert _demo.ndcg_at(3, relevance, scores) == pytest.approx((dcg / ideal + 1) / 2)
    assert _demo.ndcg_at(1, relevance[:1], scores[:1]) == 0.0
    assert _demo.ndcg_at(10, relevance[:1], -scores[:1] + 10) == pytest.approx(
        (7.0 + 1.0 * discounts[1]) / ideal)
    # Equal scores keep the given order (ties by index).
    ties = np.zeros((1, 3))
    assert _demo.ndcg_at(2, relevance[:1], ties) == pytest.approx(1 / (1 + discounts[1] / 7))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_listwise_and_lambdarank_training_lift_ndcg(seed):
    text, results = run_task("ranking", "--iterations", "80", "--seed", str(seed))
    data = _demo.make_ranking_data(seed)
    assert data.x_train.shape == (len(data.y_train), _demo.DOCS_PER_QUERY, _demo.RANK_FEATURES)
    assert set(np.unique(data.y_train)) <= set(range(_demo.GRADE_CUTS.size + 1))
    assert results["before"] < 0.4
    for name in RANKING_LOSSES:
        assert results[name] > max(0.6, results["before"] + 0.3), name
    printed = table_rows(text, ("untrained", *RANKING_LOSSES))
    for name, value in results.items():
        assert printed["untrained" if name == "before" else name] == pytest.approx(
            [value], abs=0.0006)
    summary = takeaway(text)
    assert f"NDCG@{_demo.NDCG_K} {results['before']:.3f}" in summary
    for name in RANKING_LOSSES:
        assert f"{name}" in summary and f"{results[name]:.3f}" in summary


def test_ranking_takeaway_names_the_better_loss():
    text = _demo.ranking_takeaway(0.2, {"ListwiseSoftmax": 0.70, "LambdaRank@10": 0.75})
    assert "LambdaRank@10 ranks the top better here" in text
    same = _demo.ranking_takeaway(0.2, {"ListwiseSoftmax": 0.731, "LambdaRank@10": 0.733})
    assert "nearly the same scorer" in same


# ---- options ---------------------------------------------------------------------

@pytest.mark.parametrize("task", TASK_NAMES)
def test_seed_makes_runs_reproducible(task):
    _, first = run_task(task, "--iterations", "20", "--seed", "7")
    _, again = run_task(task, "--iterations", "20", "--seed", "7")
    _, other = run_task(task, "--iterations", "20", "--seed", "8")
    assert first == again
    assert first != other


def test_quiet_omits_the_training_log(capsys):
    assert _cli.main(["demo", "--iterations", "20", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert list(sections(text)) == list(TASK_NAMES)
    assert not log_rows(text, 2) and not log_rows(text, 3)
    assert "Training loss" not in text
    assert set(table_rows(text)) == set(LOSSES)
    assert text.count("Takeaway:") == len(TASK_NAMES)


@pytest.mark.parametrize(
    "argv",
    [["--outlier-share", "0.5"], ["--outlier-share", "nan"], ["--iterations", "0"],
     ["--task", "nonsense"], ["--label-noise", "0.5"], ["--label-noise", "-0.1"]],
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
    for option in ("--task", "--seed", "--iterations", "--outlier-share", "--label-noise",
                   "--quiet"):
        assert option in result.stdout
    for task in TASK_NAMES:
        assert task in result.stdout
    assert "value_and_gradient" in result.stdout

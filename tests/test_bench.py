"""The measuring instruments: `python -m fastloss bench`, the workload registry and
the benchmark-regression check, run on tiny sizes (these test the tools, not speed)."""

import argparse
import importlib.util
import io
import itertools
import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fastloss
from fastloss._cli import bench as _bench
from fastloss._cli import main as _main

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
ASV_LOSSES = BENCHMARKS.parent / "asv_benchmarks" / "benchmarks" / "losses.py"


def run_fastloss(*args):
    return subprocess.run([sys.executable, "-P", "-m", "fastloss", *args],
                          capture_output=True, text=True, timeout=300)


def has_torch():
    return importlib.util.find_spec("torch") is not None


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_json():
    done = run_fastloss("bench", "--quick", "--rounds", "1", "--sizes", "64", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_exported_loss_has_a_workload():
    assert _bench.unregistered_losses() == []
    assert {w.loss for w in _bench.workloads()} == set(_bench.exported_losses())
    assert {w.family for w in _bench.workloads()} == {
        "regression", "classification", "detection", "segmentation", "embedding", "ranking",
        "sequence"}
    names = [w.name for w in _bench.workloads()]
    assert len(set(names)) == len(names)  # asv and the regression check key on them
    assert {w.name for w in _bench.workloads() if w.loss == "BatchTriplet"} == {
        f"BatchTriplet[{s}]" for s in fastloss.BatchTriplet.STRATEGIES}


def test_workload_shortcuts_and_families_exist():
    for w in _bench.workloads():
        assert callable(getattr(fastloss, w.shortcut)), w.shortcut
        assert w.family == w.loss_class.__module__.split(".")[-1]
        assert all(n <= w.max_size for n in w.sizes)


def test_bench_json_covers_every_workload_and_mode(bench_json):
    rows = bench_json["rows"]
    assert sorted((r["workload"], r["mode"]) for r in rows) == sorted(
        (w.name, m) for w in _bench.workloads() for m in _bench.MODES
    )
    for row in rows:
        assert row["n"] == 64 and row["shape"][-1] >= 1
        assert row["dtype"] == "float64"
        assert row["threads"] == fastloss.get_num_threads()
        assert row["seconds"]["fastloss"] > 0 and row["seconds"]["read"] > 0
        assert row["speedup"]["read"] == pytest.approx(
            row["seconds"]["read"] / row["seconds"]["fastloss"])
    meta = bench_json["meta"]
    assert meta["fastloss"] == fastloss.__version__
    assert meta["kernel_set"] in ("baseline", "x86-64-v3", "x86-64-v4")


def test_bench_peers_compute_the_same_loss(bench_json):
    """Each peer's value agrees with fastloss's: the workload compares like with like."""
    with_reference = 0
    for row in bench_json["rows"]:
        workload = _bench.find(row["workload"])
        assert (workload.loss, workload.params) == (row["loss"], row["params"])
        assert ("reference" in row["seconds"]) == (
            workload.reference(row["mode"], row["n"]) is not None)
        assert ("torch" in row["seconds"]) == (has_torch() and workload.torch is not None)
        for peer, agrees in row["agrees"].items():
            assert agrees, (row["workload"], row["mode"], peer)
            assert row["speedup"][peer] == pytest.approx(
                row["seconds"][peer] / row["seconds"]["fastloss"])
        with_reference += "reference" in row["seconds"]
    assert with_reference >= 4  # at least MSE and Huber, value and value_and_gradient


def test_bench_tables_per_family_with_options():
    done = run_fastloss("bench", "--quick", "--rounds", "1", "--no-torch", "--loss",
                        "mse,Huber", "--sizes", "100,1e3", "--dtypes", "float32",
                        "--threads", "1,2", "--mode", "value")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\nregression\n" in out and "PyTorch" in out
    lines = [line.split() for line in out.splitlines()
             if line.startswith(("MeanSquaredError", "Huber"))]
    assert len(lines) == 2 * 2 * 2  # losses x sizes x threads
    assert {(c[0], c[1], c[2], c[3], c[4]) for c in lines} == {
        (loss, "value", n, "float32", t)
        for loss in ("MeanSquaredError", "Huber") for n in ("100", "1000") for t in "12"
    }
    assert all(c[-1].endswith("x") and c[-4].endswith("x") for c in lines)  # vs read, numpy


def test_bench_overhead_table_and_json():
    done = run_fastloss("bench", "--overhead", "--rounds", "1", "--loss",
                        "mse,SparseCategoricalCrossEntropy")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()
            if line.startswith(("regression", "classification"))]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("regression", "MeanSquaredError", "100"),
        ("classification", "SparseCategoricalCrossEntropy", "1x100")]
    assert all(float(r[-1]) > 0 for r in rows)  # object time / NumPy's
    done = run_fastloss("bench", "--overhead", "--rounds", "1", "--loss", "ctc", "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["rows"]
    assert row["workload"] == "CTC"
    assert set(row["seconds"]) == {"object", "shortcut", "value_and_gradient", "numpy"}
    assert all(t > 0 for t in row["seconds"].values())


@pytest.mark.parametrize("option, value, message", [
    ("--dtypes", "float16", "unknown dtype"),
    ("--sizes", "ten", "comma-separated integers"),
    ("--loss", "NoSuchLoss", "no workload for 'NoSuchLoss'"),
    ("--mode", "gradient", "unknown mode"),
    ("--family", "astrology", "unknown family"),
])
def test_bench_rejects_bad_options(option, value, message):
    done = run_fastloss("bench", "--quick", option, value)
    assert done.returncode == 2
    assert message in done.stderr


def parse_bench(*argv):
    parser = argparse.ArgumentParser()
    _bench.add_arguments(parser)
    return parser.parse_args(argv)


SIZES_ERROR = "argument --sizes: expected comma-separated integers in [1, 2147483648]"
THREADS_ERROR = "argument --threads: expected comma-separated integers in [1, 4096]"
ROUNDS_ERROR = "argument --rounds: expected an integer >= 1"


@pytest.mark.one_kernel_set
@pytest.mark.parametrize("option, value, message", [
    pytest.param("--sizes", "inf", f"{SIZES_ERROR}, got 'inf'", id="sizes-inf"),
    pytest.param("--sizes", "1e400", f"{SIZES_ERROR}, got '1e400'", id="sizes-overflow"),
    pytest.param("--sizes", "10,2.5", f"{SIZES_ERROR}, got '10,2.5'", id="sizes-fraction"),
    pytest.param("--sizes", "1e15", f"{SIZES_ERROR}, got '1e15'", id="sizes-too-large"),
    pytest.param("--rounds", "0", f"{ROUNDS_ERROR}, got '0'", id="rounds-zero"),
    pytest.param("--rounds", "-1", f"{ROUNDS_ERROR}, got '-1'", id="rounds-negative"),
    pytest.param("--threads", "1e30", f"{THREADS_ERROR}, got '1e30'", id="threads-huge"),
    pytest.param("--threads", "4097", f"{THREADS_ERROR}, got '4097'", id="threads-above-bound"),
    pytest.param("--threads", "0", f"{THREADS_ERROR}, got '0'", id="threads-zero"),
    pytest.param("--loss", ",", "argument --loss: expected comma-separated names, got ','",
                 id="loss-empty"),
    pytest.param("--mode", ",", "argument --mode: expected comma-separated names, got ','",
                 id="mode-empty"),
])
def test_bench_rejects_invalid_values_in_one_line(option, value, message):
    done = run_fastloss("bench", "--no-torch", option, value)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"python -m fastloss bench: error: {message}"
    assert "Traceback" not in done.stderr


@pytest.mark.one_kernel_set
def test_bench_reports_a_size_that_does_not_fit_in_memory(monkeypatch, capsys):
    def measure(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.11 PiB for an array")

    monkeypatch.setattr(_bench, "measure", measure)
    with pytest.raises(SystemExit) as exit_info:
        _main.main(["bench", "--no-torch", "--no-progress", "--loss", "mse",
                    "--sizes", "1e9"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m fastloss: error: MeanSquaredError at size 1e9 needs more memory than "
        "there is (choose smaller --sizes): Unable to allocate 7.11 PiB for an array")


@pytest.mark.one_kernel_set
def test_bench_loss_must_belong_to_the_chosen_family():
    ranking = [w.name for w in _bench.workloads() if w.family == "ranking"]
    (chosen,) = _bench._selected(parse_bench("--family", "ranking", "--loss", "list_mle"))
    assert chosen.name == "ListMLE"
    done = run_fastloss("bench", "--family", "ranking", "--loss", "mse,ListMLE")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "python -m fastloss: error: --loss mse is not in --family ranking, whose losses "
        f"are {', '.join(ranking)}")


@pytest.mark.one_kernel_set
def test_bench_default_is_a_sweep_of_one_size_per_workload():
    rounds, target, dtypes, sizes = _bench._plan(parse_bench())
    assert (rounds, dtypes) == (5, ["float64", "float32"])
    for w in _bench.workloads():
        assert sizes(w) == (w.sweep_size,)
        assert w.sweep_size <= w.max_size
        for mode in _bench.MODES:  # the sweep compares with the reference wherever --full does
            assert (w.reference(mode, w.sweep_size) is None) == (w.reference(mode) is None), (
                w.name, mode)
    assert len({w.family for w in _bench.workloads()}) == 7
    full_rounds, full_target, full_dtypes, full_sizes = _bench._plan(parse_bench("--full"))
    assert (full_rounds, full_dtypes) == (7, ["float64", "float32"]) and full_target > target
    assert all(full_sizes(w) == w.sizes for w in _bench.workloads())
    quick = _bench._plan(parse_bench("--quick", "--rounds", "2", "--dtypes", "float32"))
    assert quick[0] == 2 and quick[2] == ["float32"]
    assert quick[3](_bench.find("Huber")) == _bench.QUICK_SIZES
    assert _bench._plan(parse_bench("--full", "--sizes", "10,20"))[3](_bench.find("mse")) == [
        10, 20]


@pytest.mark.one_kernel_set
def test_bench_full_and_quick_exclude_each_other():
    done = run_fastloss("bench", "--full", "--quick")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


PROGRESS_LINE = re.compile(
    r"\[(\d+)/(\d+)\] (\S+): (\d+) measurements? in [\d.]+ s; (\d+)/(\d+) done, "
    r"\d+:\d\d elapsed, ~\d+:\d\d left")


@pytest.mark.one_kernel_set
def test_bench_progress_on_stderr_one_line_per_workload_and_json_on_stdout():
    done = run_fastloss("bench", "--rounds", "1", "--sizes", "64,128", "--dtypes", "float64",
                        "--mode", "value", "--no-torch", "--loss", "mse,Contrastive,Huber",
                        "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]  # standard output is the JSON document alone
    assert [(r["workload"], r["n"]) for r in rows] == [  # families one after the other
        (name, n) for name in ("MeanSquaredError", "Huber", "Contrastive") for n in (64, 128)]
    *lines, last = done.stderr.splitlines()
    assert "\r" not in done.stderr  # not a terminal: no bar
    parsed = [PROGRESS_LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    assert [m.groups() for m in parsed] == [
        ("1", "3", "MeanSquaredError", "2", "2", "6"), ("2", "3", "Huber", "2", "4", "6"),
        ("3", "3", "Contrastive", "2", "6", "6")]
    assert re.fullmatch(r"6 measurements in \d+:\d\d", last)


@pytest.mark.one_kernel_set
def test_bench_default_sweep_size_and_no_progress():
    done = run_fastloss("bench", "--rounds", "1", "--dtypes", "float64", "--mode", "value",
                        "--no-torch", "--loss", "mse", "--json", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (row,) = json.loads(done.stdout)["rows"]
    assert row["n"] == _bench.find("mse").sweep_size


@pytest.mark.one_kernel_set
def test_bench_tables_go_out_as_each_family_completes():
    """Text output: the header, then each family's table; progress on standard error."""
    done = run_fastloss("bench", "--rounds", "1", "--sizes", "64", "--dtypes", "float32",
                        "--mode", "value", "--no-torch", "--loss", "Contrastive,mse")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("fastloss ") and "measurements" not in out
    # the families in the order of the selection, each table as soon as it is complete
    assert out.index("\nembedding\n") < out.index("\nregression\n")
    assert len(done.stderr.splitlines()) == 3  # two workloads and the total


@pytest.mark.one_kernel_set
def test_bench_progress_bar_on_a_terminal():
    """On a terminal, standard error shows a bar redrawn in place (carriage returns),
    erased before each table and at the end."""
    pty = pytest.importorskip("pty")
    controller, terminal = pty.openpty()
    fcntl, termios = pytest.importorskip("fcntl"), pytest.importorskip("termios")
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-m", "fastloss", "bench", "--rounds", "1", "--sizes", "64",
             "--dtypes", "float64", "--no-torch", "--loss", "mse,Huber"],
            stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=300)
        os.close(terminal)
        terminal = None
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
        if terminal is not None:
            os.close(terminal)
    assert done.returncode == 0
    text = shown.decode()
    frames = [frame.strip() for frame in text.split("\r") if frame.strip()]
    bars = [f for f in frames if f.startswith("[")]
    assert len(bars) == 4  # one per measurement: 2 losses x 2 modes
    assert bars[0].startswith("[....................] 0/4 0:00 elapsed  MeanSquaredError value")
    assert re.match(r"\[#+\.*\] 3/4 \d+:\d\d elapsed, ~\d+:\d\d left  Huber "
                    r"value_and_gradient n=64 float64", bars[-1])
    assert re.fullmatch(r"4 measurements in \d+:\d\d", frames[-1])
    assert "\nregression\n" in done.stdout


@pytest.mark.one_kernel_set
def test_progress_estimates_the_time_left():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = _bench.Progress(4, stream=stream)
    progress.start -= 30.0  # as if the first two measurements took 30 s
    progress.done = 2
    progress.begin("Huber value n=1e6 float64")
    assert "[##########..........] 2/4 0:30 elapsed, ~0:30 left  Huber value" in stream.getvalue()
    lines = io.StringIO()
    progress = _bench.Progress(3, stream=lines, bar=False)
    progress.start -= 10.0
    progress.end()
    progress.workload_done("Huber", 1, 10.0, 1, 3)
    assert lines.getvalue() == (
        "[1/3] Huber: 1 measurement in 10.0 s; 1/3 done, 0:10 elapsed, ~0:20 left\n")
    assert _bench._clock_text(3725) == "1:02:05" and _bench._size_text(10**6) == "1e6"


def test_compare_returns_medians_per_candidate():
    seen = []
    times = _bench.compare({"sleep": lambda: time.sleep(0.002), "nothing": lambda: seen.append(1)},
                           rounds=3, target=0.004)
    assert set(times) == {"sleep", "nothing"}
    assert times["sleep"] >= 0.002
    assert times["nothing"] < 0.001
    assert len(seen) > 3


def test_measure_row_for_one_workload():
    row = _bench.measure(_bench.find("Huber"), "value_and_gradient", 1000, "float32", 1,
                         rounds=1, target=0.001)
    assert row["family"] == "regression" and row["params"] == {"delta": 1.0}
    assert row["shape"] == [1000] and row["dtype"] == "float32"
    assert row["agrees"] == {"reference": True}
    assert row["speedup"]["reference"] > 0


def test_embedding_and_ranking_workloads_have_the_issue_sizes():
    """Triplet 10^5 x 128, BatchTriplet 2048 x 128 and NT-Xent on 4096 x 128 (two views
    of 2048, float32), ranking 10^4 lists of 100 (float64): the sizes the speed targets
    are stated for are default sizes."""
    targets = {"Triplet": (10**5, 128), "BatchTriplet[hard]": (2048, 128),
               "InfoNCE": (2048, 128),
               "PairwiseLogistic": (10**4, 100), "LambdaRank": (10**4, 100)}
    for name, (rows, width) in targets.items():
        workload = _bench.find(name)
        assert rows * width in workload.sizes, name
        (*_, last), _ = workload.data(rows * width, np.dtype("float32"),
                                      np.random.default_rng(0))
        assert last.shape == (rows, width), name


def as_tuple(gradients):
    return gradients if isinstance(gradients, tuple) else (gradients,)


def test_paired_references_serve_value_and_gradient_only():
    for w in _bench.workloads():
        # CosineSimilarity takes (y_true, y_pred) with a gradient for y_pred only, as
        # the classification losses do, and has their separate references;
        # GaussianNLL's three inputs have a paired reference, as the embedding losses
        paired = (w.family in ("embedding", "ranking", "sequence")
                  and w.loss != "CosineSimilarity" or w.loss == "GaussianNLL")
        if not paired:
            assert not w.paired
            continue
        assert w.paired and w.reference("value") is None
        args, kwargs = w.data(1000, np.dtype("float64"), np.random.default_rng(2))
        value, grads = w.reference("value_and_gradient")(*args, **kwargs)
        fl_value, fl_grads = w.fastloss("value_and_gradient")(*args, **kwargs)
        assert value == pytest.approx(fl_value, rel=1e-9), w.name
        for ref_grad, grad in zip(as_tuple(grads), as_tuple(fl_grads), strict=True):
            np.testing.assert_allclose(grad, ref_grad, rtol=1e-7, atol=1e-12, err_msg=w.name)


@pytest.fixture
def asv_losses(monkeypatch):
    """The asv suite's module, with its default sizes, dtypes and thread counts."""
    for name in ("FASTLOSS_ASV_SIZES", "FASTLOSS_ASV_DTYPES", "FASTLOSS_ASV_THREADS"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("asv_losses", ASV_LOSSES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ratio_skip(asv_losses, *params):
    """Why the asv Ratio benchmark skips these parameters; None if it measures them."""
    try:
        asv_losses.Ratio().setup(*params)
    except NotImplementedError as exc:
        return str(exc)
    return None


def test_asv_ratio_measures_every_workload_and_mode_with_a_reference(asv_losses):
    measured = set()
    for params in itertools.product(*asv_losses.Ratio.params):
        reason = ratio_skip(asv_losses, *params)
        if reason is None:
            measured.add(params[:2])
        else:
            assert params[0] in reason, params  # a skip says what it skips
    assert measured == {(w.name, mode) for w in _bench.workloads() for mode in _bench.MODES
                        if w.reference(mode) is not None}


def test_asv_ratio_skips_slow_gradient_references_above_their_limit(asv_losses):
    """Only asv's Ratio of value_and_gradient stops at the limit: the value mode and
    the other benchmarks still run the reference at 10^6 elements."""
    limited = [w for w in _bench.workloads() if w.asv_gradient_ratio_max_size]
    assert {"CategoricalCrossEntropy", "PairwiseLogistic", "LambdaRank"} <= {
        w.name for w in limited}
    for w in limited:
        limit = w.asv_gradient_ratio_max_size
        assert limit < 10**6 <= w.max_size
        assert ratio_skip(asv_losses, w.name, "value_and_gradient", limit, "float64", 2) is None
        reason = ratio_skip(asv_losses, w.name, "value_and_gradient", 10**6, "float64", 2)
        assert "takes seconds per call" in reason, w.name
        assert w.reference("value_and_gradient", 10**6) is not None, w.name
        value_measured = ratio_skip(asv_losses, w.name, "value", 10**6, "float64", 2) is None
        assert value_measured == (not w.paired), w.name


def test_batch_triplet_workloads_mine_active_triplets():
    """The benchmark batches have several rows per class and triplets inside the
    margin, so every strategy has work to do."""
    for strategy in fastloss.BatchTriplet.STRATEGIES:
        w = _bench.find(f"BatchTriplet[{strategy}]")
        assert w.params == {"strategy": strategy}
        (labels, x), _ = w.data(128 * 256, np.dtype("float32"), np.random.default_rng(0))
        assert 4 < len(labels) / len(np.unique(labels)) < 16
        value, grad = w.fastloss("value_and_gradient")(labels, x)
        assert value > 0.1 and np.count_nonzero(np.abs(grad).sum(axis=1)) > len(x) // 2


@pytest.mark.parametrize("name", ["Triplet", "Contrastive", "ListwiseSoftmax"])
def test_measure_torch_peer_of_embedding_and_ranking(name):
    torch = _bench.import_torch()
    row = _bench.measure(_bench.find(name), "value_and_gradient", 12800, "float64", 1,
                         torch=torch, rounds=1, target=0.001)
    assert row["workload"] == name and row["agrees"]["reference"]
    assert ("torch" in row["agrees"]) == (torch is not None)
    assert all(row["agrees"].values())


def test_workload_data_is_reproducible_and_in_dtype():
    n = 1000
    for w in _bench.workloads():
        for dtype in _bench.DTYPES:
            (a, kw_a) = w.data(n, np.dtype(dtype), np.random.default_rng(1))
            (b, kw_b) = w.data(n, np.dtype(dtype), np.random.default_rng(1))
            assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
            # the first differentiated array (ArcFace's last holds the class centres)
            prediction = a[w.wrt[0]] if w.paired else a[-1]
            # n elements, in whole rows (a row: everything but the first axis)
            row = int(np.prod(prediction.shape[1:])) if prediction.ndim > 1 else 1
            assert n - row < prediction.size <= n
            assert prediction.dtype == dtype
            assert np.isfinite(w.fastloss("value")(*a, **kw_a))


def run_check(*args):
    return subprocess.run([sys.executable, "-P", str(BENCHMARKS / "check_regression.py"), *args],
                          capture_output=True, text=True, timeout=300)


def test_regression_check_covers_the_key_workloads_and_every_floor():
    done = run_check("--list")
    assert done.returncode == 0, done.stderr
    listed = dict(line.split("\t") for line in done.stdout.splitlines())
    assert {"MeanSquaredError value n=1000000 float64",
            "Huber value_and_gradient n=1000000 float64",
            "MeanSquaredError value n=100 float64"} <= set(listed)
    for name in ("Triplet", "BatchTriplet[hard]", "PairwiseLogistic", "LambdaRank"):
        assert f"{name} value_and_gradient n=100000 float64" in listed
    floors = json.loads((BENCHMARKS / "floors.json").read_text())
    assert set(floors["floors"]) <= set(listed)  # no floor for a check that is gone
    for name in ("SparseCategoricalCrossEntropy value rows=256 classes=32000 float32",
                 "SparseCategoricalCrossEntropy value / value_and_gradient n=100000 float32",
                 "LambdaRank value / value_and_gradient n=100000 float64"):
        assert name in listed
    for name, floor in listed.items():
        default = floors["fused_default_floor" if "value / value_and_gradient" in name
                         else "default_floor"]
        assert float(floor) == floors["floors"].get(name, default)


def test_regression_check_measures_and_fails_above_a_floor(tmp_path):
    done = run_check("--only", "n=100 ", "--rounds", "3", "--json")
    assert done.returncode in (0, 1), done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["check"] == "MeanSquaredError value n=100 float64"
    assert 0 < result["min"] <= result["ratio"] <= result["max"]
    assert result["ok"] == (result["ratio"] <= result["floor"])
    impossible = tmp_path / "floors.json"
    impossible.write_text(json.dumps({"default_floor": 1e-9, "floors": {}}))
    done = run_check("--only", "n=100 ", "--rounds", "1", "--floors", str(impossible))
    assert done.returncode == 1
    assert "benchmark regression: MeanSquaredError value n=100 float64" in done.stderr
    assert done.stdout.splitlines()[-1].startswith("FAIL")
    assert run_check("--only", "NoSuchCheck").returncode == 2


def test_threshold_suggestion():
    threshold = load_script("threshold")
    gains = [(8192, 0.6), (16384, 1.2), (32768, 0.9), (65536, 1.3), (131072, 1.8),
             (262144, 0.5), (524288, 1.9), (1048576, 1.9)]
    rows = [{"n": n, "best_speedup": s} for n, s in gains]
    assert threshold.suggest(rows) == 524288
    assert threshold.suggest(rows, confirm=1) == 65536
    assert threshold.suggest(rows[:5], confirm=1) == 65536
    assert threshold.suggest(rows[:3]) is None


@pytest.mark.one_kernel_set
@pytest.mark.thread_unsafe  # dispatch.use rebinds every family for the process
def test_kernel_sets_script_times_each_set_with_its_own_kernels():
    """benchmarks/kernel_sets.py times a workload in every kernel set the CPU runs,
    inside dispatch.use, and leaves the dispatcher's choice as it was."""
    from fastloss._kernels import dispatch

    kernel_sets = load_script("kernel_sets")
    workload = next(w for w in _bench.WORKLOADS if w.name == "ListwiseSoftmax")
    chosen = {f: dispatch.family_set(f) for f in dispatch.FAMILIES}
    times = kernel_sets.measure(workload, "value", "float64", 1000, dispatch.available(),
                                rounds=2, target=0.001)
    assert set(times) == set(dispatch.available())
    assert all(t > 0 for t in times.values())
    assert {f: dispatch.family_set(f) for f in dispatch.FAMILIES} == chosen

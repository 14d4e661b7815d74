"""benchmarks/README.md shows what `benchmarks/speed.py` and `benchmarks/contention.py` print for the committed
results/benchmark-*.json and results/contention-*.json files, line for line: the speed figures it quotes come from a
real run, and what it concludes from them follows from them."""

import json
import re

import pytest

from benchmarks import contention
from benchmarks.speed import report
from notebook_access import ROOT, read_notebook, shows

BENCHMARKS = sorted((ROOT / "results").glob("benchmark-*.json"))


def test_there_is_a_committed_benchmark_per_cpu_path():
    assert [path.name for path in BENCHMARKS] == ["benchmark-avx2.json", "benchmark-avx512.json"]


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda path: path.name)
def test_the_benchmarks_readme_shows_the_benchmarks_output(path):
    result = json.loads(path.read_text())
    assert path.name == f"benchmark-{result['cpu_capability'].lower()}.json"
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    assert "\n".join(report(result)) in readme


CONTENTION = sorted((ROOT / "results").glob("contention-*.json"))
QUIET_COST = 0.05  # what a setting may cost a machine with nothing else running, to be applied by the notebook


def test_there_are_committed_contention_measurements():
    assert [path.name for path in CONTENTION] == ["contention-avx2-alone.json", "contention-avx2.json"]


@pytest.mark.parametrize("path", CONTENTION, ids=lambda path: path.name)
def test_the_benchmarks_readme_shows_the_contention_output(path):
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    assert "\n".join(contention.report(json.loads(path.read_text()))) in readme


def slowdowns(path) -> dict[str, dict[str, float]]:
    """Per setting and model: its time alone against the defaults' alone, and beside a busy process against its own
    alone (where measured)."""
    medians = json.loads(path.read_text())["median_seconds_per_epoch"]
    return {setting: {f"{model}, {kind}": seconds[f"{model}, {where}"] / reference[f"{model}, alone"]
                      for model in contention.MODELS
                      for kind, where, reference in [("alone", "alone", medians["defaults"]),
                                                     ("beside", "beside a busy process", seconds)]
                      if f"{model}, {where}" in seconds}
            for setting, seconds in medians.items()}


def test_what_the_readme_concludes_from_the_contention_measurements():
    # "With PyTorch's defaults a training beside one busy process ran more than 20 times slower" and "every setting
    # that keeps it from collapsing costs a quiet machine more than 5%": the notebook applies none.
    measured = slowdowns(ROOT / "results" / "contention-avx2.json")
    assert min(measured["defaults"][f"{model}, beside"] for model in contention.MODELS) > 20
    alone_only = slowdowns(ROOT / "results" / "contention-avx2-alone.json")
    for setting, ratios in measured.items():
        if setting == "defaults":
            continue
        costs = [ratios[f"{model}, alone"] for model in contention.MODELS]
        costs += [alone_only[setting][f"{model}, alone"] for model in contention.MODELS if setting in alone_only]
        assert max(costs) > 1 + QUIET_COST, setting
        assert max(ratios[f"{model}, beside"] for model in contention.MODELS) < 4, setting
    notebook = read_notebook()
    setup = next(cell.source for cell in notebook.cells if cell.source.startswith("## 1."))
    for text in [(ROOT / "README.md").read_text(), setup]:
        assert "one other busy program slows training more than 20 times" in " ".join(text.split())
    settings = "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert not any(name in settings for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS"))


def test_the_numbers_the_readme_quotes_from_the_contention_measurements():
    text = " ".join((ROOT / "benchmarks" / "README.md").read_text().split())
    rounds = json.loads((ROOT / "results" / "contention-avx2-alone.json").read_text())["rounds_measured"]
    cnn_alone = {setting: [r[setting]["seconds_per_epoch"]["cnn, alone"] for r in rounds]
                 for setting in ("defaults", "GOMP_SPINCOUNT=10000")}
    quoted = re.search(r"The defaults were steady \(([\d.]+) to ([\d.]+) s for the CNN\), the short spin was not "
                       r"\(([\d.]+) to ([\d.]+) s\): it costs a quiet machine (\d+)% of a CNN epoch and (\d+)% of a "
                       r"convolutional study epoch", text)
    assert quoted, "benchmarks/README.md no longer quotes the short spin's cost"
    for (low, high), times in zip([quoted.group(1, 2), quoted.group(3, 4)], cnn_alone.values()):
        assert shows(low, min(times)) and shows(high, max(times))
    alone_only = slowdowns(ROOT / "results" / "contention-avx2-alone.json")["GOMP_SPINCOUNT=10000"]
    for shown, model in zip(quoted.group(5, 6), contention.MODELS):
        assert shows(shown, 100 * (alone_only[f"{model}, alone"] - 1))
    medians = json.loads((ROOT / "results" / "contention-avx2.json").read_text())["median_seconds_per_epoch"]
    defaults, passive = medians["defaults"], medians["OMP_WAIT_POLICY=PASSIVE"]
    quoted = re.search(r"more than 20 times \((\d+) times the CNN, (\d+) times the convolutional model above\)", text)
    for shown, model in zip(quoted.groups(), contention.MODELS):
        assert shows(shown, defaults[f"{model}, beside a busy process"] / defaults[f"{model}, alone"])
    quoted = re.search(r"the CNN then trained at ([\d.]+) times and the convolutional model at ([\d.]+) times the "
                       r"defaults' time alone, instead of (\d+) and (\d+) times, and with nothing else running it "
                       r"costs (\d+)% and (\d+)%", text)
    assert quoted, "benchmarks/README.md no longer says what OMP_WAIT_POLICY=PASSIVE does"
    for index, model in enumerate(contention.MODELS):
        assert shows(quoted[1 + index], passive[f"{model}, beside a busy process"] / defaults[f"{model}, alone"])
        assert shows(quoted[3 + index], defaults[f"{model}, beside a busy process"] / defaults[f"{model}, alone"])
        assert shows(quoted[5 + index], 100 * (passive[f"{model}, alone"] / defaults[f"{model}, alone"] - 1))


def test_the_progress_bar_cadence_is_what_progress_cadence_py_measured():
    result = json.loads((ROOT / "results" / "progress-cadence-avx2.json").read_text())
    readme = " ".join((ROOT / "benchmarks" / "README.md").read_text().split())
    found = re.search(r"(\d+) redraws over a ([\d.]+) s epoch, the longest gap ([\d.]+) s", readme)
    assert found, "benchmarks/README.md no longer quotes the progress bar's cadence"
    redraws, epoch, gap = found.groups()
    assert int(redraws) == result["redraws"] and shows(epoch, result["epoch_seconds"])
    assert shows(gap, result["longest_gap_seconds"]) and result["longest_gap_seconds"] <= 3  # issue 32: every 3 s
    assert result["machine"]["cpu_capability"] == "AVX2" and result["last_line"].startswith("cnn-32: 100%|")

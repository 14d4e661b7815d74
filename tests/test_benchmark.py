"""benchmarks/README.md shows what `benchmarks/speed.py` prints for the committed results/benchmark-*.json files,
line for line: the speed figures it quotes come from a real run."""

import json
import sys

import pytest

from notebook import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from speed import report  # the benchmarks folder is not a package: on the path above

BENCHMARKS = sorted((ROOT / "results").glob("benchmark-*.json"))


def test_there_is_a_committed_benchmark_per_cpu_path():
    assert [path.name for path in BENCHMARKS] == ["benchmark-avx2.json", "benchmark-avx512.json"]


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda path: path.name)
def test_the_benchmarks_readme_shows_the_benchmarks_output(path):
    result = json.loads(path.read_text())
    assert path.name == f"benchmark-{result['cpu_capability'].lower()}.json"
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    assert "\n".join(report(result)) in readme

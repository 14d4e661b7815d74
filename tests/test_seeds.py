"""results/seeds.json (experiments/seeds.py) holds five full-mode runs of the committed notebook, one per seed; the
spread it records is what the notebook's seed table and the README show, and every target sits well inside it."""

import json
import re
import statistics

import pytest

from notebook import (
    README_SPREAD_ROWS,
    ROOT,
    SEED_TABLE_METRICS,
    SEED_TABLE_ROWS,
    headline_numbers,
    last_epochs_original_metric,
    markdown_table_rows,
    read_notebook,
    reproducible_numbers,
    shows,
    spread_cell_mismatches,
    tagged_cells,
)
from targets import SAFETY_IN_STANDARD_DEVIATIONS, target_margins


@pytest.fixture(scope="module")
def seeds():
    return json.loads((ROOT / "results" / "seeds.json").read_text())


@pytest.fixture(scope="module")
def committed_metrics():
    return json.loads((ROOT / "results" / "metrics.json").read_text())


def test_it_holds_five_full_mode_seeds_of_the_committed_code(seeds, committed_metrics):
    assert len(seeds["seeds"]) >= 5 and len(set(seeds["seeds"])) == len(seeds["seeds"])
    assert sorted(seeds["runs"]) == sorted(str(seed) for seed in seeds["seeds"])
    assert seeds["mode"] == "full"
    # Bit for bit only on one machine with one PyTorch: seed 0 is the committed run, re-made by the script.
    assert (seeds["torch"], seeds["device"]) == (committed_metrics["torch"], committed_metrics["device"])
    assert seeds["runs"]["0"]["reproducible"] == reproducible_numbers(committed_metrics)
    assert seeds["runs"]["0"]["last_epochs_original_metric"] == last_epochs_original_metric(committed_metrics)


def test_the_seeds_give_different_runs(seeds):
    runs = [json.dumps(run["reproducible"], sort_keys=True) for run in seeds["runs"].values()]
    assert len(set(runs)) == len(runs)


def test_every_spread_is_recomputed_from_the_runs(seeds):
    per_seed = [headline_numbers(seeds["runs"][str(seed)]["reproducible"]) for seed in seeds["seeds"]]
    assert list(seeds["headline"]) == list(per_seed[0])
    for name, spread in seeds["headline"].items():
        values = [numbers[name] for numbers in per_seed]
        assert spread["values"] == values, name
        assert spread["mean"] == pytest.approx(sum(values) / len(values), rel=1e-12, abs=1e-300)
        assert spread["std"] == pytest.approx(statistics.stdev(values), rel=1e-9, abs=1e-300)
        assert (spread["min"], spread["max"]) == (min(values), max(values))
    for run in seeds["runs"].values():
        for model, values in run["last_epochs_original_metric"].items():
            history = run["reproducible"]["models"][model]["history"]["test_original_metric_mean"]
            assert values == history[-10:] and len(history) == 30


def test_every_target_is_three_standard_deviations_inside_its_limit(seeds):
    # A fresh CI run is one more sample: it must not be able to miss a target by chance.
    margins = [target_margins(run["reproducible"]) for run in seeds["runs"].values()]
    for target in margins[0]:
        values = [margin[target] for margin in margins]
        mean, std = statistics.fmean(values), statistics.stdev(values)
        assert mean - SAFETY_IN_STANDARD_DEVIATIONS * std > 0, f"{target}: margins {values}"


def seed_table(markdown: str, seeds: dict, committed_metrics: dict) -> list[str]:
    rows, problems = markdown_table_rows(markdown), []
    if len(rows) != len(SEED_TABLE_ROWS) * len(SEED_TABLE_METRICS):
        problems.append(f"the seed table has {len(rows)} rows")
    for row in rows:
        model, key = SEED_TABLE_ROWS[row["Model"]], SEED_TABLE_METRICS[row["Error"]]
        spread = seeds["headline"][f"models.{model}.{key}"]
        where = f"{row['Model']} / {row['Error']}"
        if not shows(row["Seed 0 (this run)"], committed_metrics["models"][model][key]):
            problems.append(f"{where}: seed 0 shows {row['Seed 0 (this run)']}")
        count = len(seeds["seeds"])
        problems += spread_cell_mismatches(where, row[f"{count} seeds: mean ± std"], spread, "mean ± std")
        problems += spread_cell_mismatches(where, row[f"{count} seeds: min–max"], spread, "min–max")
    return problems


def test_the_notebooks_seed_table_shows_seeds_json(seeds, committed_metrics):
    (cell,) = tagged_cells(read_notebook(), "seed-table")
    assert cell.cell_type == "markdown"  # written from the committed file: Colab has no results/seeds.json
    assert seed_table(cell.source, seeds, committed_metrics) == []


def test_the_readme_quotes_seeds_json(seeds, committed_metrics):
    readme = (ROOT / "README.md").read_text()
    results = markdown_table_rows(readme[readme.index("## Results"):])
    count = len(seeds["seeds"])
    for row_name, model in SEED_TABLE_ROWS.items():
        (row,) = [row for row in results if row["Model"] == f"{row_name}, {count} seeds: mean ± std"]
        for column, key in [("Original metric, per image", "original_metric_mean"),
                            ("True MAE per image", "mae_mean"), ("MSE per pixel", "mse")]:
            spread = seeds["headline"][f"models.{model}.{key}"]
            assert spread_cell_mismatches(f"README {row_name} / {column}", row[column], spread, "mean ± std") == []
    # "Over the last 10 epochs of all five seeds, the original metric ranged from A to B (feedforward) and from C to
    # D (CNN)": every epoch of every seed.
    sentence = (r"ranged\s+from\s+([\d.]+)\s+to\s+([\d.]+)\s+\(feedforward\)\s+"
                r"and\s+from\s+([\d.]+)\s+to\s+([\d.]+)\s+\(CNN\)")
    quoted = re.search(sentence, readme[readme.index("### How much do the numbers vary?"):])
    assert quoted, "the README does not quote the range of the original metric over seeds and epochs"
    for model, (low, high) in zip(("feedforward", "cnn"), [quoted.group(1, 2), quoted.group(3, 4)]):
        values = [value for run in seeds["runs"].values() for value in run["last_epochs_original_metric"][model]]
        assert shows(low, min(values)) and shows(high, max(values)), model


def test_the_readme_results_table_shows_the_committed_run(committed_metrics):
    readme = (ROOT / "README.md").read_text()
    results = {row["Model"]: row for row in markdown_table_rows(readme[readme.index("## Results"):])}
    for row_name, model in SEED_TABLE_ROWS.items():
        for column, key in [("Original metric, total", "original_metric_total"),
                            ("Original metric, per image", "original_metric_mean"), ("True MAE per image", "mae_mean"),
                            ("True MAE per pixel", "mae_per_pixel"), ("MSE per pixel", "mse"),
                            ("Parameters", "parameters"), ("Code size", "code_size")]:
            assert shows(results[row_name][column], committed_metrics["models"][model][key]), (row_name, column)


def test_the_readme_spread_table_shows_seeds_json(seeds, committed_metrics):
    readme = (ROOT / "README.md").read_text()
    rows = markdown_table_rows(readme[readme.index("### How much do the numbers vary?"):])
    assert [row["Number"] for row in rows] == list(README_SPREAD_ROWS)
    count = len(seeds["seeds"])
    for row in rows:
        name = README_SPREAD_ROWS[row["Number"]]
        spread = seeds["headline"][name]
        assert shows(row["Seed 0"], headline_numbers(reproducible_numbers(committed_metrics))[name]), row["Number"]
        assert spread_cell_mismatches(row["Number"], row[f"{count} seeds: mean ± std"], spread, "mean ± std") == []
        assert spread_cell_mismatches(row["Number"], row[f"{count} seeds: min–max"], spread, "min–max") == []

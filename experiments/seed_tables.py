"""The markdown tables that the notebook, README.md and experiments/README.md copy from results/seeds.json.

    python -m experiments.seed_tables            # print them
    python -m experiments.seed_tables --write    # and put them in place of the ones in those three files

Prints, from results/seeds.json and results/metrics.json (seed 0, the committed run): section 7's seed table, the
README's results table, the summary's table of headline numbers (also in experiments/README.md), the table of
machines, and the range of the original metric over the last 10 epochs of every seed. The tables are copied as
text, so that they show where results/ is absent (Colab); tests/test_seeds.py holds every cell to the files.
--write replaces each table whole (and the sentence with the range) and nothing else: the notebook's markdown
cells tagged seed-table and spread-table, so its code and outputs stay as they were run.
"""

import argparse
import json
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
from notebook_access import (
    PUBLISHED,
    README_SPREAD_ROWS,
    SEED_TABLE_METRICS,
    SEED_TABLE_ROWS,
    headline_numbers,
    load_definitions,
    reproducible_numbers,
    tagged_cells,
)

CODES = {"feedforward": "2 numbers", "cnn": "1,568 numbers"}


def decimals(name: str) -> int:
    """How many decimals a headline number is shown with: enough to tell seeds apart, no more."""
    if name.endswith((".mse", "mse_plain_autoencoder")):
        return 5
    if name.endswith(("accuracy", "roc_auc", "trained_on_all_classes", "precision", "recall")):
        return 3
    if name.endswith("gain_percent"):
        return 1
    return 2


def shown(name: str, value: float) -> str:
    return f"{value:.{decimals(name)}f}"


def mean_std(name: str, spread: dict) -> str:
    return f"{shown(name, spread['mean'])} ± {shown(name, spread['std'])}"


def min_max(name: str, spread: dict) -> str:
    return f"{shown(name, spread['min'])}–{shown(name, spread['max'])}"


def tables() -> dict[str, str]:
    """Every table (and the sentence on the original metric's range), by name, as markdown."""
    seeds = json.loads((ROOT / "results" / "seeds.json").read_text())
    committed = headline_numbers(reproducible_numbers(json.loads((ROOT / "results" / "metrics.json").read_text())))
    spreads, count = seeds["headline"], len(seeds["seeds"])
    found = {}

    markdown_table = load_definitions()["markdown_table"]  # the notebook's own, so that its tables all look alike

    rows = [[model_name, error_name, shown(name, committed[name]), mean_std(name, spreads[name]),
             min_max(name, spreads[name]), f"{100 * spreads[name]['std'] / spreads[name]['mean']:.1f}%",
             PUBLISHED.get((model, key), "")]
            for model_name, model in SEED_TABLE_ROWS.items() for error_name, key in SEED_TABLE_METRICS.items()
            for name in [f"models.{model}.{key}"]]
    found["seed table (section 7)"] = markdown_table(
        ["Model", "Error", "Seed 0 (this run)", f"{count} seeds: mean ± std", f"{count} seeds: min–max",
         "Spread (std / mean)", "Published by the original"], rows)

    rows = [[f"{model_name}, code of {CODES[model]}" if row == 0 else "", error_name, PUBLISHED.get((model, key), ""),
             shown(name, committed[name]), mean_std(name, spreads[name])]
            for model_name, model in SEED_TABLE_ROWS.items()
            for row, (error_name, key) in enumerate(SEED_TABLE_METRICS.items()) for name in [f"models.{model}.{key}"]]
    found["results table (README)"] = markdown_table(
        ["Model", "Number", "Published by the original", "This rebuild (seed 0)", f"{count} seeds: mean ± std"], rows)

    rows = [[row, shown(name, committed[name]), mean_std(name, spreads[name]), min_max(name, spreads[name])]
            for row, name in README_SPREAD_ROWS.items()]
    found["spread table (summary, experiments/README.md)"] = markdown_table(
        ["Number", "Seed 0 (this run)", f"{count} seeds: mean ± std", f"{count} seeds: min–max"], rows)

    machines = [seeds["runs"][str(seed)]["machine"] for seed in seeds["seeds"]]
    found["machines (experiments/README.md)"] = markdown_table(
        ["Seed", "CPU", "vector instructions", "PyTorch", "NumPy", "scikit-learn"],
        [[seed, machine["cpu"], machine["cpu_capability"], machine["torch"], machine["numpy"], machine["scikit_learn"]]
         for seed, machine in zip(seeds["seeds"], machines)])

    ranges = {model: [value for run in seeds["runs"].values() for value in run["last_epochs_original_metric"][model]]
              for model in ("feedforward", "cnn")}
    found["range sentence (experiments/README.md)"] = (
        f"ranged from {min(ranges['feedforward']):.2f} to {max(ranges['feedforward']):.2f} (feedforward) and from "
        f"{min(ranges['cnn']):.2f} to {max(ranges['cnn']):.2f} (CNN)")
    return found


RANGE = re.compile(r"ranged(\s+)from(\s+)[\d.]+(\s+)to(\s+)[\d.]+(\s+)\(feedforward\)(\s+)and(\s+)from(\s+)[\d.]+"
                   r"(\s+)to(\s+)[\d.]+(\s+)\(CNN\)")


def replace_range(text: str, sentence: str) -> str:
    """`text` with the numbers of its sentence on the original metric's range replaced, its line breaks kept."""
    words = sentence.split(" ")

    def renumbered(match: re.Match) -> str:
        return "".join(word + (match.group(i + 1) if i < len(match.groups()) else "") for i, word in enumerate(words))

    text, replaced = RANGE.subn(renumbered, text)
    if replaced != 1:
        raise SystemExit("experiments/README.md has no sentence on the original metric's range: nothing was written")
    return text


def replace_table(text: str, header: str, table: str) -> str:
    """`text` with the markdown table whose first line starts with `header` replaced by `table`."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(header)]
    if len(starts) != 1:
        raise SystemExit(f"expected one table starting {header!r}, found {len(starts)}: nothing was written")
    end = starts[0]
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[:starts[0]] + table.split("\n") + lines[end:])


def write(found: dict[str, str]) -> None:
    """Every table in place, each file written whole once all its tables were found."""
    notebook_path = ROOT / "autoencoders.ipynb"
    notebook = nbformat.read(notebook_path, as_version=4)
    for tag, name, header in [("seed-table", "seed table (section 7)", "| Model | Error |"),
                              ("spread-table", "spread table (summary, experiments/README.md)", "| Number |")]:
        (cell,) = tagged_cells(notebook, tag)
        cell.source = replace_table(cell.source, header, found[name])
    readme = replace_table((ROOT / "README.md").read_text(), "| Model | Number |", found["results table (README)"])
    experiments = (ROOT / "experiments" / "README.md").read_text()
    experiments = replace_table(experiments, "| Number |", found["spread table (summary, experiments/README.md)"])
    experiments = replace_table(experiments, "| Seed | CPU |", found["machines (experiments/README.md)"])
    experiments = replace_range(experiments, found["range sentence (experiments/README.md)"])
    nbformat.write(notebook, notebook_path)
    (ROOT / "README.md").write_text(readme)
    (ROOT / "experiments" / "README.md").write_text(experiments)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="replace the tables in the three files")
    found = tables()
    for name, text in found.items():
        print(f"{name}:\n\n{text}\n")
    if parser.parse_args().write:
        write(found)
        print("Wrote autoencoders.ipynb (its cells tagged seed-table and spread-table), README.md and "
              "experiments/README.md")


if __name__ == "__main__":
    main()

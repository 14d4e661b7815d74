"""Section 8 on terms that a longer training would not overturn: every model of the code-size study trained for twice
its epochs, one seed, by the notebook's own recipe, and which design wins at each code size on four budgets.

    python experiments/doubled_budget.py            # trains what results/doubled-budget-<cpu>.json lacks, then reports
    python experiments/doubled_budget.py --report   # only the table

Each model is built and trained as section 8 does it (experiments/recipes.py's `train`, here with the recipe
`b64-lr1e-3-constant-<2 x epochs>`: Adam at 0.001, batches of 64). A model's test MSE after every epoch is recorded,
so one run of 2N epochs also gives the model after N epochs, which must equal section 8's bit for bit (the same
seed, the same batches): the report checks it. The winner at each code size is then read on four budgets: the
study's (feedforward N, convolutional M epochs), each side doubled alone, and both doubled.
"""

import argparse
import json
import re
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
from experiments.recipes import train
from notebook_access import notebook_and_images, study_row

KINDS = ("feedforward", "cnn")
NAMES = {"feedforward": "deeper feedforward", "cnn": "convolutional"}


def doubled_runs(record: dict, reference: dict) -> dict[tuple[str, int], dict]:
    """The run of each study model at twice section 8's epochs, by (kind, code size)."""
    runs = {}
    for run in record["runs"]:
        kind, code = re.fullmatch(r"(feedforward|cnn)-(\d+)", run["model"]).groups()
        epochs = int(run["recipe"].rsplit("-", 1)[1])
        if run["recipe"] == f"b64-lr1e-3-constant-{epochs}" and epochs == 2 * study_row(reference, kind, int(code))["epochs"]:
            runs[kind, int(code)] = run
    return runs


def budgets(reference: dict) -> list[tuple[str, int, int]]:
    """The four budgets, as (name, feedforward epochs, convolutional epochs)."""
    ff, cnn = (study_row(reference, kind, 2)["epochs"] for kind in KINDS)
    return [("section 8", ff, cnn), ("feedforward doubled", 2 * ff, cnn), ("convolutional doubled", ff, 2 * cnn),
            ("both doubled", 2 * ff, 2 * cnn)]


def convolutional_against_feedforward(record: dict, reference: dict) -> dict[tuple[str, int], float]:
    """The convolutional model's test MSE over the deeper feedforward model's, minus 1, by (budget, code size):
    positive where the feedforward model wins, and by how much."""
    runs, found = doubled_runs(record, reference), {}
    for name, ff_epochs, cnn_epochs in budgets(reference):
        for code in sorted({code for _, code in runs}):
            ff = runs["feedforward", code]["test_mse_by_epoch"][ff_epochs - 1]
            cnn = runs["cnn", code]["test_mse_by_epoch"][cnn_epochs - 1]
            found[name, code] = cnn / ff - 1
    return found


def winners(record: dict, reference: dict) -> dict[tuple[str, int], str]:
    """Which design has the lower test MSE, by (budget, code size)."""
    return {key: "feedforward" if relative > 0 else "cnn"
            for key, relative in convolutional_against_feedforward(record, reference).items()}


def report(record: dict, reference: dict) -> list[str]:
    """The table experiments/README.md quotes: each model's test MSE after section 8's epochs and after twice as many,
    and the winner at each code size on each budget."""
    runs = doubled_runs(record, reference)
    lines = [f"{'model':16}{'epochs':>8}{'test MSE':>10}{'epochs':>8}{'test MSE':>10}{'change':>9}"]
    for (kind, code), run in sorted(runs.items(), key=lambda item: (item[0][1], KINDS.index(item[0][0]))):
        epochs = study_row(reference, kind, code)["epochs"]
        first, second = run["test_mse_by_epoch"][epochs - 1], run["test_mse_by_epoch"][-1]
        lines.append(f"{kind}-{code:<{15 - len(kind)}}{epochs:8}{first:10.5f}{2 * epochs:8}{second:10.5f}"
                     f"{100 * (second / first - 1):+8.1f}%")
    found = winners(record, reference)
    codes = sorted({code for _, code in found})
    lines.append("")
    lines.append(f"{'budget (feedforward, convolutional epochs)':44}" + "".join(f"{f'code {code}':>20}" for code in codes))
    for name, ff_epochs, cnn_epochs in budgets(reference):
        lines.append(f"{f'{name} ({ff_epochs}, {cnn_epochs})':44}"
                     + "".join(f"{NAMES[found[name, code]]:>20}" for code in codes))
    return lines


def problems(record: dict, reference: dict) -> list[str]:
    """Where a doubled run's first half is not section 8's model (it must be, bit for bit), and what is missing."""
    runs, found = doubled_runs(record, reference), []
    for kind in KINDS:
        for code in (2, 8, 32):
            if (kind, code) not in runs:
                found.append(f"no doubled run of {kind}-{code}")
                continue
            row = study_row(reference, kind, code)
            if runs[kind, code]["test_mse_by_epoch"][:row["epochs"]] != row["test_mse_by_epoch"]:
                found.append(f"{kind}-{code}: its first {row['epochs']} epochs are not section 8's")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", action="store_true", help="only print the table of what was measured")
    args = parser.parse_args()
    capability = torch.backends.cpu.get_cpu_capability()
    output = ROOT / "results" / f"doubled-budget-{capability.lower()}.json"
    reference = json.loads((ROOT / "results" / "metrics.json").read_text())
    record = json.loads(output.read_text()) if output.is_file() else {"runs": []}
    if not args.report:
        notebook, train_images, test_images = notebook_and_images()
        for kind in KINDS:
            for code in (2, 8, 32):
                if (kind, code) in doubled_runs(record, reference):
                    continue
                row = study_row(reference, kind, code)
                result = train(notebook, kind, code, f"b64-lr1e-3-constant-{2 * row['epochs']}", train_images,
                               test_images, row["parameters"])
                record["runs"].append(result | {"machine": notebook["MACHINE"], "seed": notebook["SEED"],
                                                "date": time.strftime("%Y-%m-%d %H:%M")})
                temporary = output.with_name(output.name + ".incomplete")
                temporary.write_text(json.dumps(record, indent=1) + "\n")
                temporary.replace(output)
    print("\n".join(report(record, reference)))
    for problem in problems(record, reference):
        print(f"PROBLEM: {problem}")


if __name__ == "__main__":
    main()

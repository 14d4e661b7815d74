"""The whole notebook in full mode once per seed: how much every headline number moves from one seed to the next.

    nohup python -m experiments.seeds > seeds.log 2>&1 &   # seeds 0-4: about 4 hours on a 2-core AMD Zen 3
    python -m experiments.seeds --seeds 5 6                  # other seeds

Each seed runs the notebook itself (nbclient, a fresh kernel, AUTOENCODERS_SEED=<seed>, full mode, training from
scratch) in a folder of its own under --work, so each run writes its results/ and checkpoints/ there, never over
the committed ones, and stores its executed notebook beside them. A seed whose folder already holds the metrics of
a full run of the same notebook code (the SHA-256 of its code cells) with that seed is not run again, whatever
machine made it, so a study may be finished on another machine. A seed interrupted on this machine, with this code,
is resumed: the models it had finished training are loaded from its checkpoints (the same weights bit for bit as
training them again), so an interrupted study loses at most the model it was training.

Then it writes results/seeds.json: for every seed the machine that ran it (CPU, its vector instructions, the
versions of PyTorch, NumPy, scikit-learn and Pillow, as the notebook records them in its metrics file), the
fingerprint of the notebook code, the reproducible numbers of its metrics file (as notebook_access.py's
`reproducible_numbers` defines them) and the original metric after each of the last 10 epochs of both original
models; for every headline number (`headline_numbers`) its value per seed, mean, standard deviation (with n - 1),
minimum and maximum. Seed 0 reproduces results/metrics.json bit for bit only on the same CPU with the same
libraries; tests/test_seeds.py says how close it must be otherwise.

The study is tied to seed 0's numbers, not to the fingerprint: a later change of the code that leaves those numbers
bit for bit as they are (a title, a comment) keeps it valid, and tests/test_seeds.py checks that against the
committed run (experiments/README.md). The fingerprint records what ran, and decides only which finished or
interrupted seeds this script may reuse.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
from notebook_access import (
    NOTEBOOK_PATH,
    headline_numbers,
    last_epochs_original_metric,
    notebook_code_fingerprint,
    reproducible_numbers,
)

DEFAULT_WORK = ROOT / "experiments" / "seed-runs"


def finished_metrics(folder: Path, seed: int) -> dict | None:
    """The metrics a finished full-mode run of this notebook code with this seed left in `folder`, else None."""
    path, run = folder / "results" / "metrics.json", folder / "run.json"
    if not path.is_file() or not run.is_file():
        return None
    metrics = json.loads(path.read_text())
    if (metrics.get("mode"), metrics.get("seed")) != ("full", seed) or "machine" not in metrics:
        return None
    if json.loads(run.read_text()).get("notebook_code_sha256") != notebook_code_fingerprint():
        return None
    return metrics


def this_machine() -> dict:
    """What decides the last digits of a run: checkpoints of an interrupted run are reused only on the same."""
    info = Path("/proc/cpuinfo").read_text().split("\n\n")[0] if Path("/proc/cpuinfo").is_file() else ""
    cpu = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in info.splitlines())}
    return {"cpu": [cpu.get(key, "") for key in ("model name", "cpu family", "model")],
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version()}


def started_here(folder: Path) -> bool:
    """Whether `folder` holds an interrupted run of this notebook code, started on this machine."""
    path = folder / "started.json"
    return path.is_file() and json.loads(path.read_text()) == {
        "notebook_code_sha256": notebook_code_fingerprint(), "machine": this_machine()}


def prepare_folder(folder: Path) -> bool:
    """Whether to resume the run in `folder`; if not, what an earlier run left there is removed first."""
    folder.mkdir(parents=True, exist_ok=True)
    if started_here(folder):
        return True
    for stale in ("checkpoints", "results", "run.json"):
        shutil.rmtree(folder / stale) if (folder / stale).is_dir() else (folder / stale).unlink(missing_ok=True)
    (folder / "started.json").write_text(json.dumps(
        {"notebook_code_sha256": notebook_code_fingerprint(), "machine": this_machine()}) + "\n")
    return False


def run_notebook(folder: Path, seed: int) -> dict:
    """Execute the notebook in `folder` (its working directory) with this seed; returns the metrics it wrote.

    Every model is trained from scratch, except that a run interrupted on this machine with this code is resumed:
    the checkpoints it finished are loaded (they hold exactly what training them again would give, bit for bit),
    and the rest is trained."""
    resume = prepare_folder(folder)
    if resume:
        finished = sorted(path.stem for path in (folder / "checkpoints").glob("*.pt"))
        print(f"seed {seed}: resuming an interrupted run of this code on this machine; reusing {finished}", flush=True)
    notebook = nbformat.read(NOTEBOOK_PATH, as_version=4)
    environment = {"AUTOENCODERS_SEED": str(seed), "AUTOENCODERS_QUICK": "0",
                   "AUTOENCODERS_RETRAIN": "0" if resume else "1"}
    for name in ("AUTOENCODERS_RESULTS_DIR", "AUTOENCODERS_CHECKPOINT_DIR", "AUTOENCODERS_DATA_DIR"):
        os.environ.pop(name, None)  # the defaults, relative to the folder: results/, checkpoints/, data/
    os.environ.update(environment)
    NotebookClient(notebook, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
                   ).execute()
    nbformat.write(notebook, folder / "autoencoders.ipynb")
    (folder / "run.json").write_text(json.dumps({"notebook_code_sha256": notebook_code_fingerprint()}) + "\n")
    metrics = finished_metrics(folder, seed)
    if metrics is None:
        raise RuntimeError(f"seed {seed}: the notebook ran but left no full-mode metrics in {folder / 'results'}")
    return metrics


def spread(values: list[float]) -> dict:
    return {"values": values, "mean": statistics.fmean(values), "std": statistics.stdev(values),
            "min": min(values), "max": max(values)}


def summary(seeds: list[int], metrics_by_seed: dict[int, dict]) -> dict:
    runs = {str(seed): {"machine": metrics_by_seed[seed]["machine"],
                        "notebook_code_sha256": notebook_code_fingerprint(),
                        "reproducible": reproducible_numbers(metrics_by_seed[seed]),
                        "last_epochs_original_metric": last_epochs_original_metric(metrics_by_seed[seed])}
            for seed in seeds}
    headlines = [headline_numbers(runs[str(seed)]["reproducible"]) for seed in seeds]
    return {
        "seeds": seeds,
        "mode": "full",
        "headline": {name: spread([numbers[name] for numbers in headlines]) for name in headlines[0]},
        "runs": runs,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], metavar="SEED")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch folder, one sub-folder per seed")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "seeds.json")
    args = parser.parse_args()
    if len(set(args.seeds)) < 2 or min(args.seeds) < 0:
        parser.error("give at least two different seeds, each a whole number of at least 0")
    seeds = sorted(set(args.seeds))

    print(f"PyTorch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"seeds {seeds}, work folder {args.work}", flush=True)
    metrics_by_seed, started = {}, time.perf_counter()
    for number, seed in enumerate(seeds, 1):
        folder = args.work / f"seed-{seed}"
        if (metrics := finished_metrics(folder, seed)) is not None:
            print(f"seed {seed} ({number} of {len(seeds)}): already done in {folder}", flush=True)
        else:
            print(f"seed {seed} ({number} of {len(seeds)}): running the notebook in {folder} ...", flush=True)
            seed_start = time.perf_counter()
            metrics = run_notebook(folder, seed)
            print(f"seed {seed}: done in {(time.perf_counter() - seed_start) / 60:.1f} min "
                  f"({(time.perf_counter() - started) / 60:.1f} min so far)", flush=True)
        metrics_by_seed[seed] = metrics

    result = summary(seeds, metrics_by_seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_name(args.output.name + ".incomplete")
    temporary.write_text(json.dumps(result, indent=1) + "\n")
    temporary.replace(args.output)  # whole or not at all
    print(f"Wrote {args.output}")
    for name, numbers in result["headline"].items():
        print(f"{name:58} {numbers['mean']:10.4f} ± {numbers['std']:8.4f}  [{numbers['min']:.4f}, {numbers['max']:.4f}]")


if __name__ == "__main__":
    main()

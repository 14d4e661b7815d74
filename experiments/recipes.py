"""Faster recipes for the code-size study (section 8): test MSE and training time of each candidate, one seed.

    python experiments/recipes.py --models cnn-32 --recipes b64-lr1e-3-constant-8 b256-lr4e-3-onecycle-4
    python experiments/recipes.py --models feedforward-2 feedforward-8 feedforward-32 --recipes b256-lr3e-3-onecycle-8

A recipe is written `b<batch size>-lr<learning rate>-<schedule>-<epochs>`, the schedule `constant` (the notebook's
today: Adam at one learning rate) or `onecycle` (PyTorch's `OneCycleLR`, stepped after every batch: the learning
rate warms up to the given one over the first 30% of the steps, then anneals to almost nothing, while Adam's first
beta cycles the other way; Smith and Topin, "Super-convergence", 2018). A model is written `<kind>-<code size>`, the
kind `feedforward` (the study's deeper feedforward model) or `cnn` (the study's convolutional model, UvA's design).

Each model is built by the notebook's own code with the notebook's seed, exactly as section 8 builds it, and trained
by the notebook's `train_autoencoder` on all 60,000 training images; the one-cycle schedule is attached to the
optimizer that `train_autoencoder` creates (the notebook has no schedule of its own yet). The test MSE after the last
epoch and the wall time are appended to results/recipes-<cpu capability>.json, with the machine, so that runs of
several sessions add up. Run it alone on the machine: its times are compared.
"""

import argparse
import contextlib
import io
import json
import re
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from speed import notebook_and_images

from notebook import study_row

RECIPE = re.compile(r"b(\d+)-lr([\d.e-]+)-(constant|onecycle)-(\d+)")
MODEL = re.compile(r"(feedforward|cnn)-(\d+)")


def one_cycle_adam(total_steps: int):
    """torch.optim.Adam, as train_autoencoder creates it, with a one-cycle schedule stepped after each update."""

    class OneCycleAdam(torch.optim.Adam):
        def __init__(self, parameters, lr: float, **options):
            super().__init__(parameters, lr=lr, **options)
            self.schedule = torch.optim.lr_scheduler.OneCycleLR(self, max_lr=lr, total_steps=total_steps)

        def step(self, closure=None):
            loss = super().step(closure)
            if self.schedule.last_epoch < total_steps - 1:
                self.schedule.step()
            return loss

    return OneCycleAdam


def train(notebook: dict, kind: str, code: int, recipe: str, train_images, test_images, parameters: int) -> dict:
    batch, learning_rate, schedule, epochs = RECIPE.fullmatch(recipe).groups()
    batch, learning_rate, epochs = int(batch), float(learning_rate), int(epochs)
    torch.manual_seed(notebook["SEED"])
    if kind == "feedforward":
        model = notebook["make_feedforward_autoencoder"](code, hidden=(512, 256))
    else:
        model = notebook["make_conv_autoencoder"](code, channels=24)
    model = notebook["on_device"](model)
    if notebook["count_parameters"](model) != parameters:  # the widths above are section 8's study cell's
        raise RuntimeError(f"{kind}-{code} has {notebook['count_parameters'](model):,} parameters here and {parameters:,} "
                           "in results/metrics.json: section 8 builds it otherwise now; update recipes.py to match")
    adam = torch.optim.Adam
    if schedule == "onecycle":
        torch.optim.Adam = one_cycle_adam(epochs * (len(train_images) // batch))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            history = notebook["train_autoencoder"](model, train_images, test_images, epochs=epochs,
                                                    batch_size=batch, learning_rate=learning_rate,
                                                    name=f"{kind}-{code} {recipe}")
    finally:
        torch.optim.Adam = adam
    return {"model": f"{kind}-{code}", "recipe": recipe, "test_mse": history["test_loss"][-1],
            "test_mse_by_epoch": history["test_loss"], "seconds": history["seconds"],
            "elapsed_seconds": history["elapsed_seconds"]}


def report(record: dict, reference: dict) -> list[str]:
    """The table of every run in a recipes file, beside the committed run's model trained by section 8's recipe
    (`reference`: results/metrics.json), as experiments/README.md quotes it."""
    lines = [f"{'model':16}{'recipe':28}{'test MSE':>10}{'vs section 8':>14}{'seconds':>9}{'vs section 8':>14}"]
    # Times compare with the committed run of the same day that the file names, if it names one: a later committed
    # run may have been made on a faster or slower day.
    seconds = record.get("reference", {}).get("train_seconds", {})
    for run in record["runs"]:
        kind, code = MODEL.fullmatch(run["model"]).groups()
        row = study_row(reference, kind, int(code))
        lines.append(f"{run['model']:16}{run['recipe']:28}{run['test_mse']:10.5f}"
                     f"{100 * (run['test_mse'] / row['mse'] - 1):+13.1f}%{run['seconds']:9.1f}"
                     f"{run['seconds'] / seconds.get(run['model'], row['train_seconds']):13.2f}x")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, metavar="KIND-CODE")
    parser.add_argument("--recipes", nargs="+", required=True, metavar="RECIPE")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    for model in args.models:
        if not MODEL.fullmatch(model):
            parser.error(f"{model!r} is no model: write feedforward-<code size> or cnn-<code size>, e.g. cnn-32")
    for recipe in args.recipes:
        if not RECIPE.fullmatch(recipe):
            parser.error(f"{recipe!r} is no recipe: write b<batch>-lr<rate>-<constant|onecycle>-<epochs>, "
                         "e.g. b256-lr3e-3-onecycle-8")

    notebook, train_images, test_images = notebook_and_images()
    capability = torch.backends.cpu.get_cpu_capability()
    output = args.output or ROOT / "results" / f"recipes-{capability.lower()}.json"
    record = json.loads(output.read_text()) if output.is_file() else {"runs": []}
    reference = json.loads((ROOT / "results" / "metrics.json").read_text())
    for model in args.models:
        kind, code = MODEL.fullmatch(model).groups()
        for recipe in args.recipes:
            parameters = study_row(reference, kind, int(code))["parameters"]
            result = train(notebook, kind, int(code), recipe, train_images, test_images, parameters)
            result |= {"machine": notebook["MACHINE"], "seed": notebook["SEED"],
                       "date": time.strftime("%Y-%m-%d %H:%M")}
            record["runs"].append(result)
            temporary = output.with_name(output.name + ".incomplete")
            temporary.write_text(json.dumps(record, indent=1) + "\n")
            temporary.replace(output)
            print(f"{model:16} {recipe:28} test MSE {result['test_mse']:.5f}  {result['seconds']:7.1f} s", flush=True)


if __name__ == "__main__":
    main()

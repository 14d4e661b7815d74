"""Recipes for the notebook's models, judged on the validation images: validation MSE and training time, one seed.

    python -m experiments.recipes --models cnn-32 cnn-8 --recipes b64-lr3e-3-onecycle-5 b64-lr3e-3-onecycle-6
    python -m experiments.recipes --models feedforward-2 two-number denoiser --recipes b64-lr2e-3-onecycle-12

A recipe is written `b<batch size>-lr<learning rate>-<schedule>-<epochs>`, the schedule `constant` (Adam at one
learning rate, the original's) or `onecycle` (PyTorch's `OneCycleLR`, stepped after every batch: the learning rate
warms up to the given one over the first 30% of the steps, then anneals to almost nothing, while Adam's first beta
cycles the other way; Smith and Topin, "Super-convergence", 2018): the notebook's own `Recipe`. A model is
`feedforward-<code size>` or `cnn-<code size>` (the code-size study's two designs, section 8), `two-number` (the
original feedforward layers with their 2-number code, as sections 14 and 15 train them) or `denoiser` (section 13).

Each model is built by the notebook's own code with the notebook's seed, exactly as the notebook builds it, and
trained by the notebook's `train_autoencoder` on its training images (all but the validation images of section 2),
with the validation images as the held-out images it measures after every epoch. The validation MSE after the last
epoch decides; the test MSE is recorded beside it only so that experiments/README.md can check the chosen recipes
against an earlier run's, and chooses nothing. Results are appended to results/recipes-<cpu capability>.json, with
the machine, so that runs of several sessions add up. Run it alone on the machine: its times are compared.
"""

import argparse
import contextlib
import io
import json
import re
import time
from pathlib import Path

import torch

from notebook_access import ROOT, notebook_and_data

RECIPE = re.compile(r"b(\d+)-lr([\d.e-]+)-(constant|onecycle)-(\d+)")
MODEL = re.compile(r"(feedforward|cnn)-(\d+)|two-number|denoiser")


def recipe_of(notebook: dict, text: str):
    """The notebook's Recipe that `text` (b64-lr2e-3-onecycle-12) writes."""
    batch, learning_rate, schedule, epochs = RECIPE.fullmatch(text).groups()
    return notebook["Recipe"](epochs=int(epochs), learning_rate=float(learning_rate),
                              schedule="one-cycle" if schedule == "onecycle" else "constant", batch_size=int(batch))


def build(notebook: dict, model: str):
    """The model `model` as the notebook builds it, on its device, with its seed."""
    torch.manual_seed(notebook["SEED"])
    if model == "two-number":
        return notebook["on_device"](notebook["make_feedforward_autoencoder"]())
    if model == "denoiser":
        return notebook["on_device"](notebook["make_denoiser"]())
    kind, code = MODEL.fullmatch(model).groups()
    return notebook["on_device"](notebook["make_study_model"](kind, int(code)))


def held_out(notebook: dict, data, model: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The validation inputs and targets the notebook measures `model` on: noisy and clean images for the denoiser."""
    if model == "denoiser":
        noise = torch.Generator().manual_seed(notebook["SEED"] + 2)  # section 13's validation noise
        return notebook["add_noise"](data.validation_images, noise), data.validation_images
    return data.validation_images, data.validation_images


def train(notebook: dict, data, model: str, recipe: str) -> dict:
    network = build(notebook, model)
    inputs, targets = held_out(notebook, data, model)
    with contextlib.redirect_stdout(io.StringIO()):
        history = notebook["train_autoencoder"](network, data.training_images, inputs, held_out_targets=targets,
                                                recipe=recipe_of(notebook, recipe), name=f"{model} {recipe}")
    test_inputs = data.test_images
    if model == "denoiser":
        test_inputs = notebook["add_noise"](data.test_images, torch.Generator().manual_seed(notebook["SEED"] + 1))
    test_errors = notebook["reconstruction_errors"](data.test_images, notebook["reconstruct"](network, test_inputs))
    return {"model": model, "recipe": recipe, "validation_mse": history["held_out_loss"][-1],
            "validation_mse_by_epoch": history["held_out_loss"], "test_mse": test_errors["mse"].mean().item(),
            "seconds": history["seconds"], "elapsed_seconds": history["elapsed_seconds"]}


def report(record: dict) -> list[str]:
    """The table of every run in a recipes file that measured validation MSE, as experiments/README.md quotes it."""
    lines = [f"{'model':16}{'recipe':26}{'validation MSE':>16}{'test MSE':>10}{'seconds':>9}"]
    for run in record["runs"]:
        if "validation_mse" in run:
            lines.append(f"{run['model']:16}{run['recipe']:26}{run['validation_mse']:16.5f}{run['test_mse']:10.5f}"
                         f"{run['seconds']:9.1f}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, metavar="MODEL")
    parser.add_argument("--recipes", nargs="+", required=True, metavar="RECIPE")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    for model in args.models:
        if not MODEL.fullmatch(model):
            parser.error(f"{model!r} is no model: write feedforward-<code size>, cnn-<code size>, two-number or "
                         "denoiser, e.g. cnn-32")
    for recipe in args.recipes:
        if not RECIPE.fullmatch(recipe):
            parser.error(f"{recipe!r} is no recipe: write b<batch>-lr<rate>-<constant|onecycle>-<epochs>, "
                         "e.g. b64-lr2e-3-onecycle-12")

    notebook, data = notebook_and_data()
    capability = torch.backends.cpu.get_cpu_capability()
    output = args.output or ROOT / "results" / f"recipes-{capability.lower()}.json"
    record = json.loads(output.read_text()) if output.is_file() else {"runs": []}
    for model in args.models:
        for recipe in args.recipes:
            result = train(notebook, data, model, recipe)
            result |= {"machine": notebook["MACHINE"], "seed": notebook["SEED"],
                       "date": time.strftime("%Y-%m-%d %H:%M")}
            record["runs"].append(result)
            temporary = output.with_name(output.name + ".incomplete")
            temporary.write_text(json.dumps(record, indent=1) + "\n")
            temporary.replace(output)
            print(f"{model:16} {recipe:26} validation MSE {result['validation_mse']:.5f}  "
                  f"test MSE {result['test_mse']:.5f}  {result['seconds']:7.1f} s", flush=True)


if __name__ == "__main__":
    main()

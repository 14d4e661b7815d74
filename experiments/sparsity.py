"""The weight of section 16's sparsity penalty, chosen on the validation images.

    python -m experiments.sparsity                      # the weights below, about 2 minutes on a 2-core CPU
    python -m experiments.sparsity --weights 0 1e-2

Each weight trains section 16's wide autoencoder (the notebook's `make_wide_autoencoder`, its `sparse_loss` and its
`SPARSE_RECIPE`, with the notebook's seed) on the notebook's training images, and measures on its validation images
the MSE and how many of the 128 code units are on per image. Weight 0 is the plain model. The rule the notebook
states: the smallest weight that leaves at most half of the code units on per validation image, on average (an
activity target, as the KL penalty of Hands-On Machine Learning sets one): the sparsity asked for, at the least cost
in error. Writes results/sparsity.json; the test images are not read.
"""

import argparse
import contextlib
import io
import json

import torch

from notebook_access import ROOT, notebook_and_data

WEIGHTS = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
ACTIVE_SHARE = 0.5  # "at most half of the code units on per image"


def measure(notebook: dict, data, weight: float) -> dict:
    notebook["SPARSITY_WEIGHT"] = weight  # the setting sparse_loss reads, as a reader would change it
    torch.manual_seed(notebook["SEED"])
    model = notebook["on_device"](notebook["make_wide_autoencoder"]())
    loss = notebook["sparse_loss"] if weight else notebook["reconstruction_mse"]
    with contextlib.redirect_stdout(io.StringIO()):
        history = notebook["train_autoencoder"](model, data.training_images, recipe=notebook["SPARSE_RECIPE"],
                                                loss_function=loss, name=f"weight {weight}")
    codes = notebook["encode"](model, data.validation_images)
    return {"weight": weight, "validation_mse": notebook["mean_errors"](model, data.validation_images)["mse"],
            "active_units_mean": (codes > 0).sum(dim=1).double().mean().item(), "seconds": history["seconds"]}


def chosen(runs: list[dict], width: int) -> float:
    return min(run["weight"] for run in runs if run["active_units_mean"] <= ACTIVE_SHARE * width)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", nargs="+", type=float, default=WEIGHTS)
    args = parser.parse_args()
    notebook, data = notebook_and_data()
    runs = []
    for weight in args.weights:
        runs.append(measure(notebook, data, weight))
        print(f"weight {weight:g}: validation MSE {runs[-1]['validation_mse']:.5f}, "
              f"{runs[-1]['active_units_mean']:.1f} units on per image, {runs[-1]['seconds']:.1f} s", flush=True)
    result = {"active_share": ACTIVE_SHARE, "width": notebook["SPARSE_WIDTH"], "recipe": str(notebook["SPARSE_RECIPE"]),
              "machine": notebook["MACHINE"], "seed": notebook["SEED"], "runs": runs,
              "chosen": chosen(runs, notebook["SPARSE_WIDTH"])}
    output = ROOT / "results" / "sparsity.json"
    temporary = output.with_name(output.name + ".incomplete")
    temporary.write_text(json.dumps(result, indent=1) + "\n")
    temporary.replace(output)
    print(f"chosen: {result['chosen']:g}; wrote {output}")


if __name__ == "__main__":
    main()

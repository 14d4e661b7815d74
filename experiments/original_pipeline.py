"""The original's own training pipeline, seed by seed: where do its numbers fall against the notebook's?

    OMP_NUM_THREADS=1 python -m experiments.original_pipeline      # feedforward, seeds 0-4: ~5 min (as committed)
    python -m experiments.original_pipeline --model cnn --seeds 0 1

The notebook's results table differs from the published one in its original metric. To tell a difference of
pipeline from the seed-to-seed spread, this trains the original's models (built by the notebook's own functions,
with the original's layer order) the way the original did: a per-sample `Dataset` + `DataLoader(batch_size=64,
shuffle=True, drop_last=True)`, `torch.manual_seed(seed)` before building the model, one plain Adam for the 30
epochs, MSE loss, and evaluation one test image at a time. It records the original metric per image after every
one of the last 10 epochs and the SAE per image and the MSE at the end, and writes results/original_pipeline-<model>.json.
"""

import argparse
import json
import os
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
from benchmarks.speed import as_original, original_epoch, original_evaluation
from notebook_access import load_definitions

EPOCHS = 30
LAST = 10


def main():
    os.environ.setdefault("AUTOENCODERS_QUICK", "0")
    notebook = load_definitions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["feedforward", "cnn"], default="feedforward")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    args = parser.parse_args()

    data_root = notebook["DATA_ROOT"] if notebook["DATA_ROOT"].is_absolute() else ROOT / notebook["DATA_ROOT"]
    notebook["prepare_fashion_mnist"](data_root)
    train_images, _ = notebook["load_split"](data_root, train=True, device=torch.device("cpu"))
    test_images, _ = notebook["load_split"](data_root, train=False, device=torch.device("cpu"))
    make = notebook["make_feedforward_autoencoder" if args.model == "feedforward" else "make_cnn_autoencoder"]

    runs = {}
    for seed in args.seeds:
        start = time.perf_counter()
        torch.manual_seed(seed)
        model = as_original(make())
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        last_epochs = []
        for epoch in range(EPOCHS):
            original_epoch(model, train_images, optimizer)
            if epoch >= EPOCHS - LAST:  # the original metric per image, evaluated one image at a time
                last_epochs.append(original_evaluation(model, test_images) / len(test_images))
        reconstructions = notebook["reconstruct"](model, test_images)
        errors = notebook["summarize_errors"](notebook["reconstruction_errors"](test_images, reconstructions))
        runs[str(seed)] = {"original_metric_mean": last_epochs[-1], "last_epochs_original_metric": last_epochs,
                           "sae_mean": errors["sae_mean"], "mse": errors["mse"]}
        print(f"seed {seed}: original metric {last_epochs[-1]:.2f} (last {LAST} epochs {min(last_epochs):.2f} to "
              f"{max(last_epochs):.2f}), SAE {errors['sae_mean']:.2f}, MSE {errors['mse']:.5f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)

    output = ROOT / "results" / f"original_pipeline-{args.model}.json"
    result = {"model": args.model, "epochs": EPOCHS, "torch": torch.__version__,
              "cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
              "runs": runs}
    output.write_text(json.dumps(result, indent=1) + "\n")
    print(f"Wrote {output}")


if __name__ == "__main__":
    main()

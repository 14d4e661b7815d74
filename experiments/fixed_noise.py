"""Section 13's denoiser trained on one fixed noise draw per training image (as the notebook did before issue 38)
against fresh noise in every batch (as it does now), with the same architecture, recipe and seed.

    python -m experiments.fixed_noise      # about a minute and a half on a 2-core CPU, after a full run

Fresh noise is the notebook's own denoiser (`make_denoiser`, a noise layer before the original CNN); fixed noise is
the original CNN (`make_cnn_autoencoder`, the same weights under the same seed) trained on the training images with
noise drawn once, by the notebook's `add_noise`, as inputs and the clean images as targets. Both train by the
notebook's `DENOISING_RECIPE` and are measured on the notebook's noisy validation and test images. Writes
results/fixed-noise.json.
"""

import contextlib
import io
import json

import torch

from notebook_access import ROOT, notebook_and_data


def main():
    notebook, data = notebook_and_data()
    seed, recipe = notebook["SEED"], notebook["DENOISING_RECIPE"]
    noisy_validation = notebook["add_noise"](data.validation_images, torch.Generator().manual_seed(seed + 2))
    noisy_test = notebook["add_noise"](data.test_images, torch.Generator().manual_seed(seed + 1))
    result = {"machine": notebook["MACHINE"], "seed": seed, "recipe": str(recipe)}
    for name in ("fresh", "fixed"):
        torch.manual_seed(seed)
        if name == "fresh":
            model, inputs = notebook["on_device"](notebook["make_denoiser"]()), data.training_images
        else:
            model = notebook["on_device"](notebook["make_cnn_autoencoder"]())
            inputs = notebook["add_noise"](data.training_images, torch.Generator().manual_seed(seed + 3))
        with contextlib.redirect_stdout(io.StringIO()):
            history = notebook["train_autoencoder"](model, inputs, noisy_validation, recipe=recipe,
                                                    train_targets=data.training_images,
                                                    held_out_targets=data.validation_images)
        errors = notebook["reconstruction_errors"](data.test_images, notebook["reconstruct"](model, noisy_test))
        result[name] = {"validation_mse": history["held_out_loss"][-1], "test_psnr": notebook["psnr"](errors["mse"]),
                        "seconds": history["seconds"]}
        print(f"{name} noise: test PSNR {result[name]['test_psnr']:.2f} dB", flush=True)
    output = ROOT / "results" / "fixed-noise.json"
    output.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

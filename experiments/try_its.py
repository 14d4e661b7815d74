"""The "Try it" prompts of sections 8 and 13, followed as written, for the answers the notebook folds under each.

    python -m experiments.try_its          # about 5 minutes on a 2-core CPU, after a full run

Section 8 asks to add 128 to `CODE_SIZES`: both designs are trained at 128 numbers exactly as the study trains them
(`make_study_model`, `STUDY_RECIPES`, the training and validation images), and PCA is fitted at 128. Section 13 asks
to set `NOISE_STD` to 0.1 or 0.5: the denoiser is trained again with that noise (`make_denoiser`, `DENOISING_RECIPE`),
and it and the committed run's original CNN (checkpoints/cnn-full.pt) are given test images with that noise, drawn
as section 13 draws it. Every function is the notebook's own; the numbers are test figures, as in the notebook's
tables. Writes results/try-its.json. (The other prompts are answered by the committed run itself, by
experiments/anomaly_by_class.py and by experiments/code_spaces.py.)
"""

import contextlib
import io
import json

import torch

from notebook_access import ROOT, committed_model, notebook_and_data


def train(notebook: dict, data, model, recipe, held_out_inputs, held_out_targets=None) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):
        return notebook["train_autoencoder"](model, data.training_images, held_out_inputs, recipe=recipe,
                                             held_out_targets=held_out_targets)


def code_size_128(notebook: dict, data) -> dict:
    result = {}
    for kind in ("feedforward", "cnn"):
        torch.manual_seed(notebook["SEED"])
        model = notebook["on_device"](notebook["make_study_model"](kind, 128))
        history = train(notebook, data, model, notebook["STUDY_RECIPES"][kind], data.validation_images)
        result[kind] = {"test_mse": notebook["mean_errors"](model, data.test_images)["mse"],
                        "validation_mse": history["held_out_loss"][-1], "seconds": history["seconds"]}
    mean, directions = notebook["fit_pca"](data.training_images)
    pca = notebook["pca_reconstruct"](data.test_images, mean, directions, 128)
    result["pca"] = {"test_mse": notebook["reconstruction_errors"](data.test_images, pca)["mse"].mean().item()}
    return result


def noise_levels(notebook: dict, data, levels=(0.1, 0.5)) -> dict:
    seed, result = notebook["SEED"], {}
    copying = committed_model(notebook, "make_cnn_autoencoder", "cnn")
    for std in levels:
        noisy = {split: notebook["add_noise"](images, torch.Generator().manual_seed(seed + offset), std)
                 for split, images, offset in [("validation", data.validation_images, 2), ("test", data.test_images, 1)]}
        torch.manual_seed(seed)
        denoiser = notebook["on_device"](notebook["make_denoiser"](std))
        train(notebook, data, denoiser, notebook["DENOISING_RECIPE"], noisy["validation"], data.validation_images)
        result[str(std)] = {
            name: notebook["psnr"](notebook["reconstruction_errors"](data.test_images, images)["mse"])
            for name, images in [("noisy", noisy["test"]), ("plain_cnn", notebook["reconstruct"](copying, noisy["test"])),
                                 ("denoised", notebook["reconstruct"](denoiser, noisy["test"]))]}
    return result


def main():
    notebook, data = notebook_and_data()
    result = {"machine": notebook["MACHINE"], "seed": notebook["SEED"],
              "code_size_128": code_size_128(notebook, data), "noise_std": noise_levels(notebook, data)}
    output = ROOT / "results" / "try-its.json"
    temporary = output.with_name(output.name + ".incomplete")
    temporary.write_text(json.dumps(result, indent=1) + "\n")
    temporary.replace(output)
    print(json.dumps({key: value for key, value in result.items() if key != "machine"}, indent=1))


if __name__ == "__main__":
    main()

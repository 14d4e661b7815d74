"""How settled section 12's linear-probe accuracies are: the probe fitted to the notebook's test of convergence
(no component of the gradient above PROBE_TOLERANCE, scikit-learn's 1e-4) against the same probe fitted a hundred
times tighter (1e-6), on the two representations whose fits take longest, the raw pixels and the original CNN's
1,568-number code.

    python -m experiments.probe_convergence

It uses the notebook's own definition cells in full mode (`fit_linear_probe`, `encode`, the data), and the original
CNN of the committed run from checkpoints/cnn-full.pt (run the notebook in full mode first). For each representation
it reports both accuracies, the difference in points, and how many of the 10,000 test images change class. Writes
results/probe-convergence.json, which tests/test_claims.py holds section 12's sentence to.
"""

import json

import torch

from notebook_access import ROOT, committed_model, notebook_and_data

TIGHTER = 1e-6


def main():
    notebook, data = notebook_and_data()
    test_images, test_labels = data.test_images, data.test_labels
    cnn = committed_model(notebook, "make_cnn_autoencoder", "cnn")
    count = notebook["PROBE_TRAINING_IMAGES"]
    # What section 12's probe learns from: the first of the training images (the validation images left out).
    train_images, train_labels = data.training_images[:count], data.training_labels[:count]
    representations = {"pixels": (train_images, test_images),
                       "cnn": (notebook["encode"](cnn, train_images), notebook["encode"](cnn, test_images))}
    results = {"tolerance": notebook["PROBE_TOLERANCE"], "tighter_tolerance": TIGHTER,
               "training_images": count, "test_images": len(test_labels), "torch": torch.__version__,
               "cpu_capability": torch.backends.cpu.get_cpu_capability(), "representations": {}}
    for name, (training_codes, test_codes) in representations.items():
        training_codes, test_codes = training_codes.flatten(1).float(), test_codes.flatten(1).float()
        predictions, fits = [], []
        for tolerance in (notebook["PROBE_TOLERANCE"], TIGHTER):
            notebook["PROBE_TOLERANCE"] = tolerance  # read by fit_linear_probe when it is called
            probe, fit = notebook["fit_linear_probe"](training_codes, train_labels)
            predictions.append(probe(test_codes))
            fits.append(fit)
        notebook["PROBE_TOLERANCE"] = results["tolerance"]
        accuracies = [(found == test_labels).float().mean().item() for found in predictions]
        results["representations"][name] = {
            "accuracy": accuracies[0], "tighter_accuracy": accuracies[1],
            "difference_points": 100 * (accuracies[1] - accuracies[0]),
            "images_changing_class": int((predictions[0] != predictions[1]).sum().item()),
            "iterations": fits[0]["iterations"], "tighter_iterations": fits[1]["iterations"],
            "tighter_converged": fits[1]["converged"]}
        row = results["representations"][name]
        print(f"{name:7} accuracy {row['accuracy']:.4f} -> {row['tighter_accuracy']:.4f} "
              f"({row['difference_points']:+.2f} points), {row['images_changing_class']} test images change class, "
              f"{row['iterations']} -> {row['tighter_iterations']} iterations"
              + ("" if row["tighter_converged"] else " (the tighter fit did not converge)"))
    (ROOT / "results" / "probe-convergence.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Anomaly detection with each class held out in turn: which classes an autoencoder can tell from the rest.

    python -m experiments.anomaly_by_class                   # all ten classes, full mode: about 4 minutes on 2 cores
    python -m experiments.anomaly_by_class --classes Bag Shirt

The notebook's section 14 holds out one class (Bag). This repeats it for other classes, with the notebook's own code
(its definition cells): the original feedforward layers, trained by `train_autoencoder` with `TWO_NUMBER_RECIPE` on
the training images of the nine other classes, score every test image by its reconstruction MSE. For each class it
reports the ROC-AUC of that score, the ROC-AUC of the same layers and recipe trained on all ten classes (section
14's reference), and the precision and recall at the notebook's threshold (the 99th percentile of the normal
validation images' scores), with the held-out class's share of the test images, on which the precision depends.
Writes results/anomaly_by_class.json.
"""

import argparse
import contextlib
import io
from pathlib import Path

import torch
from sklearn.metrics import roc_auc_score

from notebook_access import ROOT, notebook_and_data


def main():
    notebook, data = notebook_and_data()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", nargs="+", default=notebook["CLASS_NAMES"], choices=notebook["CLASS_NAMES"],
                        metavar="CLASS", help="class names to hold out (default: all ten)")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "anomaly_by_class.json")
    args = parser.parse_args()
    recipe, seed = notebook["TWO_NUMBER_RECIPE"], notebook["SEED"]

    def trained(images, held_out_images):
        torch.manual_seed(seed)
        model = notebook["on_device"](notebook["make_feedforward_autoencoder"]())
        with contextlib.redirect_stdout(io.StringIO()):
            notebook["train_autoencoder"](model, images, held_out_images, recipe=recipe)
        return model

    all_classes_scores = notebook["anomaly_scores"](trained(data.training_images, data.validation_images),
                                                    data.test_images)
    rows = []
    for name in args.classes:
        held_out = notebook["CLASS_NAMES"].index(name)
        normal, normal_validation = data.training_labels != held_out, data.validation_labels != held_out
        model = trained(data.training_images[normal], data.validation_images[normal_validation])
        is_held_out = (data.test_labels == held_out).cpu()
        report = notebook["anomaly_report"](notebook["anomaly_scores"](model, data.test_images), is_held_out,
                                            notebook["anomaly_scores"](model, data.validation_images[normal_validation]))
        rows.append({"held_out_class": name, **report,
                     "roc_auc_trained_on_all_classes": roc_auc_score(is_held_out.numpy(), all_classes_scores.numpy())})
        print(f"{name:12} ROC-AUC {report['roc_auc']:.3f} (trained on all classes: "
              f"{rows[-1]['roc_auc_trained_on_all_classes']:.3f}), precision {report['precision']:.2f}, "
              f"recall {report['recall']:.2f}", flush=True)
    notebook["write_json"](args.output, {"mode": notebook["MODE"], "recipe": str(recipe), "seed": seed,
                                         "torch": torch.__version__, "device": notebook["DEVICE"].type,
                                         "cpu_capability": torch.backends.cpu.get_cpu_capability(), "classes": rows})
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

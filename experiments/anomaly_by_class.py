"""Anomaly detection with each class held out in turn: which classes an autoencoder can tell from the rest.

    python experiments/anomaly_by_class.py                  # all ten classes, full mode: about 5 minutes on 2 cores
    python experiments/anomaly_by_class.py --classes Bag Shirt

The notebook's section 14 holds out one class (Bag). This repeats its recipe for other classes, with the notebook's
own code (its definition cells): the original feedforward autoencoder, trained with `train_autoencoder` for 30
epochs on the training images of the nine other classes, scores every test image by its reconstruction MSE. For
each class it reports the ROC-AUC of that score, the ROC-AUC of the same architecture trained on all ten classes
(how much of it is just that the class is hard to reconstruct), and precision and recall at the notebook's
threshold (the 99th percentile of the training images' scores). Writes results/anomaly_by_class.json.
"""

import argparse
import os
from pathlib import Path

import torch
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
from notebook_access import load_definitions


def main():
    os.environ.setdefault("AUTOENCODERS_QUICK", "0")
    notebook = load_definitions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", nargs="+", default=notebook["CLASS_NAMES"], choices=notebook["CLASS_NAMES"],
                        metavar="CLASS", help="class names to hold out (default: all ten)")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "anomaly_by_class.json")
    args = parser.parse_args()

    device, epochs, seed = notebook["DEVICE"], notebook["EPOCHS"], notebook["SEED"]
    data_root = notebook["DATA_ROOT"] if notebook["DATA_ROOT"].is_absolute() else ROOT / notebook["DATA_ROOT"]
    notebook["prepare_fashion_mnist"](data_root)
    train_images, train_labels = notebook["load_split"](data_root, train=True, device=device)
    test_images, test_labels = notebook["load_split"](data_root, train=False, device=device)
    train_images, train_labels = train_images[:notebook["TRAIN_SIZE"]], train_labels[:notebook["TRAIN_SIZE"]]

    def trained(images):
        torch.manual_seed(seed)
        model = notebook["on_device"](notebook["make_feedforward_autoencoder"]())
        notebook["train_autoencoder"](model, images, epochs=epochs, seed=seed)
        return model

    all_classes_scores = notebook["anomaly_scores"](trained(train_images), test_images)
    rows = []
    for name in args.classes:
        held_out = notebook["CLASS_NAMES"].index(name)
        normal = train_labels != held_out
        model = trained(train_images[normal])
        is_held_out = (test_labels == held_out).cpu()
        report = notebook["anomaly_report"](notebook["anomaly_scores"](model, test_images), is_held_out,
                                            notebook["anomaly_scores"](model, train_images[normal]))
        rows.append({"held_out_class": name, **report,
                     "roc_auc_trained_on_all_classes": roc_auc_score(is_held_out.numpy(), all_classes_scores.numpy())})
        print(f"{name:12} ROC-AUC {report['roc_auc']:.3f} (trained on all classes: "
              f"{rows[-1]['roc_auc_trained_on_all_classes']:.3f}), precision {report['precision']:.2f}, "
              f"recall {report['recall']:.2f}", flush=True)
    notebook["write_json"](args.output, {"mode": notebook["MODE"], "epochs": epochs, "seed": seed,
                                         "torch": torch.__version__, "device": device.type, "classes": rows})
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""Speed of the notebook's training and evaluation against the original notebook's pipeline.

    python -m benchmarks.speed                # writes results/benchmark-<cpu capability>.json, e.g. benchmark-avx2.json
    python -m benchmarks.speed --repeats 5 --output /tmp/benchmark.json
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python -m benchmarks.speed   # an AVX-512 CPU's AVX2 code paths

In one process, on the device the notebook would pick, it alternates the two sides several times and reports
medians and ratios:
- one training epoch of each original model (all 60,000 images) with the original pipeline (a per-sample
  `Dataset` + `DataLoader(batch_size=64, shuffle=True, drop_last=True)`, plain Adam) and with the notebook's
  `train_autoencoder`;
- the evaluation of all 10,000 test images, the original way (one forward pass per image) and the notebook's way;
- one training epoch of the code-size study's convolutional model (code of 32 numbers), against the CNN's;
- the CNN epoch's achieved GFLOP/s against the device's measured float32 matrix-multiply rate;
- judging three codes that need no training (the 784 raw pixels, and PCA's codes of 32 and of 2 numbers) as section
  12 does, by 5-nearest-neighbour and linear-probe accuracy: the way the notebook did it until commit 05b81b4
  (float64 `torch.cdist` on the host, scikit-learn's LogisticRegression) against the notebook's own functions, once
  each, alternating which goes first.
The models, the training function, the error functions and the judging are the notebook's own: its definition cells
are executed here. Only the baselines, the original's pipeline and the earlier judging, are written out below.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parent.parent
from notebook_access import load_definitions


class Images(Dataset):
    """The original's dataset: one image per __getitem__, no labels."""

    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index]


def as_original(model):
    """The original's layers, in its order (ReLU, then pooling) and with ReLUs that write a new output."""
    for module in model.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
        if isinstance(module, torch.nn.Sequential):
            layers = list(module)
            for i in range(len(layers) - 1):
                if isinstance(layers[i], torch.nn.MaxPool2d) and isinstance(layers[i + 1], torch.nn.ReLU):
                    layers[i], layers[i + 1] = layers[i + 1], layers[i]
            for i, layer in enumerate(layers):
                module[i] = layer
    return model


def cpu_capability():
    """The vector instructions PyTorch's CPU kernels use (AVX2, AVX512, ...); ATEN_CPU_CAPABILITY can lower it."""
    return torch.backends.cpu.get_cpu_capability()


def original_epoch(model, train_images, optimizer=None):
    """One epoch of the original's training loop. The original kept one Adam for all its epochs: pass it to train
    on; without one, a fresh Adam (a timed epoch). A new DataLoader per epoch draws from the global generator just
    as the original's one loader did at the start of each epoch."""
    loader = DataLoader(Images(train_images), batch_size=64, shuffle=True, drop_last=True)
    optimizer = optimizer if optimizer is not None else torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = torch.nn.MSELoss()
    model.train()
    for batch in loader:
        output = model(batch)
        loss = criterion(output, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def original_evaluation(model, test_images):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for image in test_images:
            reconstruction = model(image.unsqueeze(0))
            total += torch.abs(torch.sum(image - reconstruction)).item()
    return total


def earlier_knn_accuracy(references, reference_labels, queries, query_labels, k=5):
    """Section 12's nearest neighbours until commit 05b81b4: float64 distances by torch.cdist on the host, 500 queries
    against all references at a time."""
    references, queries = references.flatten(1).cpu().double(), queries.flatten(1).cpu().double()
    nearest = torch.cat([torch.cdist(queries[i:i + 500], references).topk(k, largest=False).indices
                         for i in range(0, len(queries), 500)])
    votes = F.one_hot(reference_labels.cpu()[nearest], 10).sum(dim=1)
    return (votes.argmax(dim=1) == query_labels.cpu()).double().mean().item()


def earlier_probe_accuracy(training_codes, training_labels, test_codes, test_labels, training_images=10_000):
    """Section 12's linear probe until commit 05b81b4: scikit-learn's LogisticRegression on standardised codes."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(training_codes[:training_images].flatten(1).cpu().numpy(), training_labels[:training_images].cpu().numpy())
    return probe.score(test_codes.flatten(1).cpu().numpy(), test_labels.cpu().numpy())


def judging(notebook, train_images, train_labels, test_images, test_labels):
    """Times judging the pixels and PCA's 32- and 2-number codes both ways, once each, alternating the order; returns
    the seconds and accuracies per side and code."""
    mean, directions = notebook["fit_pca"](train_images)
    codes = {"pixels": (train_images, test_images)}
    for size in (32, 2):
        codes[f"pca-{size}"] = tuple(notebook["pca_encode"](images, mean, directions, size).float().to(train_images.device)
                                     for images in (train_images, test_images))
    sides = {
        "earlier": lambda references, queries: (earlier_knn_accuracy(references, train_labels, queries, test_labels),
                                                earlier_probe_accuracy(references, train_labels, queries, test_labels)),
        "notebook": lambda references, queries: (notebook["knn_accuracy"](references, train_labels, queries, test_labels),
                                                 notebook["linear_probe_accuracy"](references, train_labels, queries,
                                                                                   test_labels)[0]),
    }
    result = {side: {} for side in sides}
    for number, (name, (references, queries)) in enumerate(codes.items()):
        for side in list(sides)[::1 if number % 2 == 0 else -1]:
            start = time.perf_counter()
            knn, probe = sides[side](references, queries)
            result[side][name] = {"seconds": time.perf_counter() - start, "knn_accuracy": knn, "probe_accuracy": probe}
        print(f"judged {name} both ways", file=sys.stderr)
    return result


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(device, function, *args):
    synchronize(device)
    start = time.perf_counter()
    function(*args)
    synchronize(device)
    return time.perf_counter() - start


def training_flops_per_image(model, device):
    """Multiply-adds of one forward pass, counted from the layer shapes, times 2 (FLOPs) times 3 (forward +
    backward, whose two gradients each cost about one forward)."""
    flops = 0

    def count(module, inputs, output):
        nonlocal flops
        if isinstance(module, torch.nn.Conv2d):
            flops += 2 * output.numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.ConvTranspose2d):
            flops += 2 * inputs[0].numel() * module.out_channels * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.Linear):
            flops += 2 * output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28, device=device))
    for hook in hooks:
        hook.remove()
    return 3 * flops


def matmul_gflops(device, size=2048, repeats=10):
    """The device's float32 matrix-multiply rate: a practical estimate of its peak for this kind of work."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b
    best = min(timed(device, torch.matmul, a, b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def notebook_and_images(labels: bool = False):
    """The notebook's definitions in full mode, and its training and test images on its device, prepared by its own
    code (and their labels, if asked for)."""
    os.environ.setdefault("AUTOENCODERS_QUICK", "0")
    notebook = load_definitions()
    data_root = notebook["DATA_ROOT"] if notebook["DATA_ROOT"].is_absolute() else ROOT / notebook["DATA_ROOT"]
    notebook["prepare_fashion_mnist"](data_root)
    train_images, train_labels = notebook["load_split"](data_root, train=True, device=notebook["DEVICE"])
    test_images, test_labels = notebook["load_split"](data_root, train=False, device=notebook["DEVICE"])
    if labels:
        return notebook, train_images, train_labels, test_images, test_labels
    return notebook, train_images, test_images


def committed_model(notebook: dict, make: str, name: str):
    """The committed run's model `name` (checkpoints/<name>-full.pt), built by the notebook's `make` function and put
    on its device as the notebook does; stops with what to do when the checkpoint is not there."""
    checkpoint = ROOT / "checkpoints" / f"{name}-full.pt"
    if not checkpoint.is_file():
        raise SystemExit(f"{checkpoint} is missing: run the notebook in full mode first (it trains and saves it).")
    model = notebook["on_device"](notebook[make]())
    model.load_state_dict(torch.load(checkpoint, map_location=notebook["DEVICE"], weights_only=True)["state_dict"])
    return model


def report(result: dict) -> list[str]:
    """The lines the benchmark prints for a result (as written to its JSON file), quoted in the README."""
    median = result["median_seconds"]
    original_evaluation = median["feedforward_original_evaluation"] + median["cnn_original_evaluation"]
    notebook_evaluation = median["feedforward_notebook_evaluation"] + median["cnn_notebook_evaluation"]
    lines = [(f"device: {result['device']} ({result['device_name']}, {result['threads']} threads, CPU capability "
              f"{result['cpu_capability']}), torch {result['torch']}, median of {result['repeats']} alternating "
              "rounds"),
             f"{'':28}{'original':>10}{'notebook':>10}{'ratio':>8}"]
    for model_name in ("feedforward", "cnn"):
        o, n = median[f"{model_name}_original_epoch"], median[f"{model_name}_notebook_epoch"]
        lines.append(f"{model_name + ' epoch (s)':28}{o:10.2f}{n:10.2f}{n / o:8.2f}x")
    for model_name in ("feedforward", "cnn"):
        o, n = median[f"{model_name}_original_evaluation"], median[f"{model_name}_notebook_evaluation"]
        lines.append(f"{model_name + ' evaluation (s)':28}{o:10.3f}{n:10.3f}{o / n:7.1f}x faster")
    lines.append(f"{'evaluation, both models (s)':28}{original_evaluation:10.3f}{notebook_evaluation:10.3f}"
                 f"{result['evaluation_speedup']:7.1f}x faster")
    lines.append(f"{'conv study model epoch (s)':28}{median['cnn_notebook_epoch']:10.2f}"
                 f"{median['conv_study_notebook_epoch']:10.2f}{result['conv_study_epoch_vs_cnn']:8.2f}x the CNN's")
    lines.append(f"CNN epoch: {result['cnn_training_gflop_per_epoch']:.0f} GFLOP at {result['cnn_gflops']:.1f} GFLOP/s; "
                 f"float32 matmul on this device: {result['peak_gflops_estimate']:.0f} GFLOP/s "
                 f"({result['cnn_gflops'] / result['peak_gflops_estimate']:.0%} of it)")
    if "judging" in result:  # runs before the judging was benchmarked have none
        earlier, notebook = result["judging"]["earlier"], result["judging"]["notebook"]
        lines.append(f"{'judging a code (s)':28}{'earlier':>10}{'notebook':>10}{'ratio':>8}"
                     "   5-NN accuracy, probe accuracy (earlier / notebook)")
        for name in earlier:
            e, n = earlier[name], notebook[name]
            lines.append(f"{'  ' + name:28}{e['seconds']:10.2f}{n['seconds']:10.2f}{e['seconds'] / n['seconds']:7.1f}x"
                         f"   {e['knn_accuracy']:.4f} / {n['knn_accuracy']:.4f}, "
                         f"{e['probe_accuracy']:.4f} / {n['probe_accuracy']:.4f}")
        total_earlier = sum(side["seconds"] for side in earlier.values())
        total_notebook = sum(side["seconds"] for side in notebook.values())
        lines.append(f"{'  all three':28}{total_earlier:10.2f}{total_notebook:10.2f}"
                     f"{total_earlier / total_notebook:7.1f}x faster")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per side (default 3)")
    parser.add_argument("--output", type=Path, help="default: results/benchmark-<device or CPU capability>.json")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    notebook, train_images, train_labels, test_images, test_labels = notebook_and_images(labels=True)
    device = notebook["DEVICE"]
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 on both sides, as in the notebook
    makers = {"feedforward": notebook["make_feedforward_autoencoder"], "cnn": notebook["make_cnn_autoencoder"]}
    capability = cpu_capability() if device.type == "cpu" else device.type
    output = args.output or ROOT / "results" / f"benchmark-{capability.lower()}.json"

    def notebook_epoch(model, images):
        notebook["train_autoencoder"](model, images, recipe=notebook["Recipe"](epochs=1), name="notebook epoch")

    def notebook_evaluation(model, images):
        return notebook["summarize_errors"](notebook["reconstruction_errors"](images, notebook["reconstruct"](
            model, images)))

    times = {f"{model}_{side}_{what}": [] for model in makers for side in ("original", "notebook")
             for what in ("epoch", "evaluation")} | {"conv_study_notebook_epoch": []}
    sides = {  # how each side trains and evaluates, and how it puts a model on the device
        "original": (original_epoch, original_evaluation, lambda model: as_original(model).to(device)),
        "notebook": (notebook_epoch, notebook_evaluation, notebook["on_device"]),
    }
    # Round 0 is a warm-up, not timed: the first call of each kernel pays for setting it up.
    for round_ in range(args.repeats + 1):
        for model_name, make in makers.items():
            order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
            for side in order:
                epoch, evaluation, place = sides[side]
                torch.manual_seed(round_)
                model = place(make())
                epoch_time = timed(device, epoch, model, train_images)
                evaluation_time = timed(device, evaluation, model, test_images)
                if round_ > 0:
                    times[f"{model_name}_{side}_epoch"].append(epoch_time)
                    times[f"{model_name}_{side}_evaluation"].append(evaluation_time)
        torch.manual_seed(round_)
        study_model = notebook["on_device"](notebook["make_conv_autoencoder"](32))
        study_time = timed(device, notebook_epoch, study_model, train_images)
        if round_ > 0:
            times["conv_study_notebook_epoch"].append(study_time)
        print(f"round {round_}/{args.repeats} done{' (warm-up)' if round_ == 0 else ''}", file=sys.stderr)

    median = {key: statistics.median(values) for key, values in times.items()}
    cnn_flops = training_flops_per_image(makers["cnn"]().to(device), device) * (len(train_images) // 64 * 64)
    original_evaluation_time = median["feedforward_original_evaluation"] + median["cnn_original_evaluation"]
    notebook_evaluation_time = median["feedforward_notebook_evaluation"] + median["cnn_notebook_evaluation"]
    result = {
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else notebook["MACHINE"]["cpu"],
        "cpu_capability": cpu_capability(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "repeats": args.repeats,
        "median_seconds": median,
        "feedforward_epoch_ratio": median["feedforward_notebook_epoch"] / median["feedforward_original_epoch"],
        "cnn_epoch_ratio": median["cnn_notebook_epoch"] / median["cnn_original_epoch"],
        "evaluation_speedup": original_evaluation_time / notebook_evaluation_time,
        "conv_study_epoch_vs_cnn": median["conv_study_notebook_epoch"] / median["cnn_notebook_epoch"],
        "cnn_training_gflop_per_epoch": cnn_flops / 1e9,
        "cnn_gflops": cnn_flops / median["cnn_notebook_epoch"] / 1e9,
        "peak_gflops_estimate": matmul_gflops(device),
        "times": times,
        "judging": judging(notebook, train_images, train_labels, test_images, test_labels),
    }
    notebook["write_json"](output, result)

    print("\n".join(report(result)))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()

"""What the inference shortcuts of `MaxPool2x2` and `ConvTranspose2x2` buy: evaluating the 10,000 test images with
them, and with the computation of the PyTorch modules they subclass, alternately in one process.

    python benchmarks/inference_shortcuts.py
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/inference_shortcuts.py   # the AVX2 code paths

For the original CNN, the one model whose layers have the shortcuts (the code-size study's convolutional model used
them too until its design changed to strided convolutions), untrained, it times the notebook's own evaluation
(`reconstruct`, `reconstruction_errors`, `summarize_errors`, executed from its definition cells) both ways, checks
that both give the same reconstructions bit for bit, and prints the medians.
"""

import argparse
import statistics
import time

import torch
from speed import notebook_and_images, use_module_computation  # this folder is on the path when a script in it runs

MODELS = {"CNN": lambda notebook: notebook["make_cnn_autoencoder"]()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per side (default 7)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    notebook, _, test_images = notebook_and_images()
    print(f"device: {notebook['DEVICE']}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}; median of {args.repeats} alternating rounds")

    def evaluation(model):
        reconstructions = notebook["reconstruct"](model, test_images)
        notebook["summarize_errors"](notebook["reconstruction_errors"](test_images, reconstructions))
        return reconstructions

    for name, make in MODELS.items():
        torch.manual_seed(0)
        model = notebook["on_device"](make(notebook))
        times = {True: [], False: []}
        outputs = {}
        for round_ in range(args.repeats + 1):  # round 0 is a warm-up
            for module_computation in ([True, False] if round_ % 2 else [False, True]):
                use_module_computation(model, module_computation)
                start = time.perf_counter()
                outputs[module_computation] = evaluation(model)
                if round_ > 0:
                    times[module_computation].append(time.perf_counter() - start)
        without, with_ = statistics.median(times[True]), statistics.median(times[False])
        same = "the same bit for bit" if torch.equal(outputs[True], outputs[False]) else "NOT the same"
        print(f"{name}: evaluation of {len(test_images):,} test images {without:.3f} s with the modules' own "
              f"computation, {with_:.3f} s with the shortcuts ({without / with_:.2f}x faster); reconstructions {same}")


if __name__ == "__main__":
    main()

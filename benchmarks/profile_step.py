"""Where a training step's time goes: torch.profiler over the notebook's own `train_autoencoder`.

    python -m benchmarks.profile_step                      # the original CNN and the conv study model (code 32)
    python -m benchmarks.profile_step --models feedforward --steps 300
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python -m benchmarks.profile_step   # the AVX2 code paths

For each model it trains one warm-up epoch of `--steps` batches of 64 training images, then profiles a second one
and prints the operators that took the most time of their own (self CPU time), with their share of the epoch.
The models and the training function are the notebook's own: its definition cells are executed here.
"""

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from notebook_access import notebook_and_images

MODELS = {
    "feedforward": lambda notebook: notebook["make_feedforward_autoencoder"](),
    "cnn": lambda notebook: notebook["make_cnn_autoencoder"](),
    "conv-study-32": lambda notebook: notebook["make_conv_autoencoder"](32),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["cnn", "conv-study-32"])
    parser.add_argument("--steps", type=int, default=200, help="training steps (batches of 64) profiled per model")
    parser.add_argument("--top", type=int, default=12, help="operators listed per model")
    args = parser.parse_args()
    if args.steps < 1 or args.top < 1:
        parser.error("--steps and --top must be at least 1")

    notebook, train_images, _ = notebook_and_images()
    device = notebook["DEVICE"]
    images = train_images[:args.steps * notebook["BATCH_SIZE"]]
    print(f"device: {device}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}; {args.steps} steps per model")

    for name in args.models:
        torch.manual_seed(0)
        model = notebook["on_device"](MODELS[name](notebook))
        notebook["train_autoencoder"](model, images, recipe=notebook["Recipe"](epochs=1), name=f"{name} warm-up")
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            start = time.perf_counter()
            notebook["train_autoencoder"](model, images, recipe=notebook["Recipe"](epochs=1), name=f"{name} profiled")
            seconds = time.perf_counter() - start
        events = sorted(profiler.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
        print(f"\n{name}: {seconds / args.steps * 1e3:.2f} ms per step under the profiler")
        print(f"{'operator':44}{'calls':>8}{'self ms/step':>14}{'share':>8}")
        for event in events[:args.top]:
            per_step = event.self_cpu_time_total / 1e3 / args.steps
            print(f"{event.key[:43]:44}{event.count:8d}{per_step:14.3f}{per_step / (seconds / args.steps * 1e3):8.1%}")


if __name__ == "__main__":
    main()

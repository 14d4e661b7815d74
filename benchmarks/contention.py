"""A training that shares its CPU: how PyTorch's threads wait, alone and beside another busy process.

    python -m benchmarks.contention                 # 2 rounds, about 15 minutes on a 2-core CPU
    python -m benchmarks.contention --rounds 3 --alone-batches 600

On two cores, PyTorch runs each operation on two OpenMP threads, which wait for each other when it ends. By default
a waiting thread spins for a while before it sleeps; when another process holds one of the two cores, the spinning
thread burns the time slice its partner needs, and the kernel shares the CPU fairly between login sessions
(autogroup scheduling), whatever `nice` says. This script measures what that costs and what OpenMP's settings do
about it.

OpenMP reads its settings when PyTorch is loaded, so each setting runs in a fresh Python process: the defaults
(GNU OpenMP, which PyTorch's Linux builds use, spins 300,000 times before it sleeps), shorter spins
(`GOMP_SPINCOUNT`), `OMP_WAIT_POLICY=PASSIVE` (a waiting thread sleeps at once), and `OMP_NUM_THREADS=1` (no
partner to wait for).
Each process executes the notebook's definition cells, loads the data with its code, and times its
`train_autoencoder` for the original CNN and for the code-size study's convolutional model (code of 32): over 400
batches of 64 training images alone (`--alone-batches`), then over 100 batches (`--beside-batches`) with a competing
process busy, a Python loop started in a session of its own (`setsid`) as another terminal's or another notebook's
work would be, then alone again (the two alone times are averaged). Rounds alternate the settings so that the
machine's drift spreads over all of them. Times are per 60,000-image epoch (scaled from the
batches timed), medians over the rounds; results/contention-<cpu capability>.json keeps every round.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"defaults": {}, **{f"GOMP_SPINCOUNT={count}": {"GOMP_SPINCOUNT": str(count)} for count in (10000, 3000, 1000)},
            "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"}, "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1"}}
MODELS = ("cnn", "conv study model (code 32)")
EPOCH_IMAGES = 60_000
BUSY_LOOP = "while True: pass"


def measure(alone_batches: int, beside_batches: int) -> dict:
    """In this process (already started with its setting): seconds per epoch of each model, alone (twice, before
    and after) and beside a busy process."""
    import torch

    from notebook_access import notebook_and_images

    notebook, train_images, _ = notebook_and_images()
    models = {"cnn": notebook["make_cnn_autoencoder"](), "conv study model (code 32)": notebook["make_conv_autoencoder"](32)}
    models = {name: notebook["on_device"](model) for name, model in models.items()}

    def epoch_seconds(model, batches: int) -> float:
        images = train_images[:batches * notebook["BATCH_SIZE"]]
        history = notebook["train_autoencoder"](model, images, recipe=notebook["Recipe"](epochs=1), name="contention")
        return history["seconds"] * EPOCH_IMAGES / len(images)

    for model in models.values():  # warm-up: oneDNN picks and caches its kernels on the first batches
        epoch_seconds(model, 20)
    seconds = {}
    for name, model in models.items():
        before = epoch_seconds(model, alone_batches)
        if beside_batches:
            competitor = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], start_new_session=True)
            try:
                time.sleep(1.0)  # let it take its core
                seconds[f"{name}, beside a busy process"] = epoch_seconds(model, beside_batches)
            finally:
                competitor.kill()
                competitor.wait()
        seconds[f"{name}, alone"] = (before + epoch_seconds(model, alone_batches)) / 2
    return {"seconds_per_epoch": seconds, "threads": torch.get_num_threads(), "machine": notebook["MACHINE"],
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__}


def run_setting(setting: str, alone_batches: int, beside_batches: int) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("OMP_", "GOMP_"))}
    environment |= SETTINGS[setting] | {"AUTOENCODERS_QUICK": "0"}
    completed = subprocess.run([sys.executable, __file__, "--child", "--alone-batches", str(alone_batches),
                                "--beside-batches", str(beside_batches)], env=environment,
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the measurement with {setting} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def report(result: dict) -> list[str]:
    """The table the benchmark prints, as benchmarks/README.md quotes it."""
    medians = result["median_seconds_per_epoch"]
    lines = [(f"{result['cpu']} ({result['cpu_capability']}), torch {result['torch']}, seconds per 60,000-image "
              f"epoch, median of {result['rounds']} alternating rounds ({result['alone_batches']} batches alone, "
              f"{result['beside_batches'] or 'none'} beside)"),
             (f"{'setting':26}{'CNN alone':>11}{'beside':>9}{'slowdown':>10}{'conv alone':>12}{'beside':>9}"
              f"{'slowdown':>10}")]
    for setting, seconds in medians.items():
        line = f"{setting:26}"
        for model, widths in zip(MODELS, [(11, 9, 9), (12, 9, 9)]):
            alone, beside = seconds[f"{model}, alone"], seconds.get(f"{model}, beside a busy process")
            line += f"{alone:{widths[0]}.1f}" + (f"{'-':>{widths[1]}}{'-':>{widths[2] + 1}}" if beside is None else
                                                 f"{beside:{widths[1]}.1f}{beside / alone:{widths[2]}.1f}x")
        lines.append(line)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--alone-batches", type=int, default=400, help="batches of 64 images timed alone")
    parser.add_argument("--beside-batches", type=int, default=100,
                        help="batches of 64 timed beside a busy process (0: alone only)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS), metavar="SETTING",
                        help=f"some of: {', '.join(SETTINGS)}")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1 or args.alone_batches < 10 or 0 < args.beside_batches < 10:
        parser.error("--rounds must be at least 1, --alone-batches at least 10 and --beside-batches 0 or at least 10")
    if args.child:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            result = measure(args.alone_batches, args.beside_batches)
        print(json.dumps(result))
        return

    rounds = []
    for number in range(args.rounds):
        order = args.settings if number % 2 == 0 else list(reversed(args.settings))
        measured = {}
        for setting in order:
            measured[setting] = run_setting(setting, args.alone_batches, args.beside_batches)
            print(f"round {number + 1}, {setting}: "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in measured[setting]["seconds_per_epoch"].items()), flush=True)
        rounds.append(measured)
    first = rounds[0][args.settings[0]]
    result = {
        "cpu": first["machine"]["cpu"],  # as the notebook records its machine
        "cpu_capability": first["cpu_capability"], "torch": first["torch"], "cores": os.cpu_count(),
        "alone_batches": args.alone_batches, "beside_batches": args.beside_batches, "rounds": args.rounds, "competitor": f"python -c '{BUSY_LOOP}' in a new session",
        "median_seconds_per_epoch": {
            setting: {column: statistics.median(r[setting]["seconds_per_epoch"][column] for r in rounds)
                      for column in first["seconds_per_epoch"]} for setting in args.settings},
        "rounds_measured": rounds,
    }
    output = args.output or ROOT / "results" / f"contention-{first['cpu_capability'].lower()}.json"
    output.write_text(json.dumps(result, indent=1) + "\n")
    print("\n".join(report(result)))
    print(f"Wrote {output}")


if __name__ == "__main__":
    main()

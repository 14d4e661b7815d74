"""How much the notebook's `reuse_freed_memory()` (glibc's malloc thresholds raised) speeds up training on a CPU.

    python benchmarks/allocator.py               # 3 rounds
    python benchmarks/allocator.py --repeats 5

glibc's settings cannot be put back within a process, so each measurement runs in a fresh process, alternating
"tuned" (the notebook as it is) and "glibc's defaults" (the same notebook, with the C library made unreachable so
that `reuse_freed_memory()` leaves the defaults alone, as it would on a system without glibc). Each process times
one epoch of the original CNN and one of the original feedforward model over all 60,000 training images with the
notebook's own `train_autoencoder`. Medians and their ratio are printed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import ctypes, json, sys, time
sys.path.insert(0, {tests!r})
if {defaults}:
    def unreachable(*args, **kwargs):
        raise OSError("the C library is left alone for this measurement")
    ctypes.CDLL = unreachable
import torch
from notebook import load_definitions
notebook = load_definitions()
notebook["prepare_fashion_mnist"](notebook["DATA_ROOT"])
images, _ = notebook["load_split"](notebook["DATA_ROOT"], train=True, device=notebook["DEVICE"])
seconds = {{"tuned": notebook["REUSING_FREED_MEMORY"]}}
for name in ("cnn", "feedforward"):
    torch.manual_seed(0)
    model = notebook["on_device"](notebook["make_" + name + "_autoencoder"]())
    start = time.perf_counter()
    notebook["train_autoencoder"](model, images, epochs=1, name=name)
    seconds[name] = time.perf_counter() - start
print(json.dumps(seconds))
"""


def measure(defaults: bool) -> dict:
    code = CHILD.format(tests=str(ROOT / "tests"), defaults=defaults)
    environment = os.environ | {"AUTOENCODERS_QUICK": "0"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"the measuring process failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="processes per side (default 3)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    runs = {"tuned": [], "defaults": []}
    for round_ in range(args.repeats):
        for side in (["tuned", "defaults"] if round_ % 2 == 0 else ["defaults", "tuned"]):
            result = measure(defaults=side == "defaults")
            if result["tuned"] != (side == "tuned"):
                sys.exit(f"reuse_freed_memory() returned {result['tuned']} on the {side!r} side: "
                         "this measurement needs Linux with glibc and a CPU device")
            runs[side].append(result)
        print(f"round {round_ + 1}/{args.repeats} done", file=sys.stderr)
    print(f"median of {args.repeats} processes per side, one epoch of 60,000 images each")
    print(f"{'':20}{'defaults':>10}{'tuned':>10}{'ratio':>8}")
    for name in ("cnn", "feedforward"):
        defaults = statistics.median(run[name] for run in runs["defaults"])
        tuned = statistics.median(run[name] for run in runs["tuned"])
        print(f"{name + ' epoch (s)':20}{defaults:10.2f}{tuned:10.2f}{tuned / defaults:7.2f}x")


if __name__ == "__main__":
    main()

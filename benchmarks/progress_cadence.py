"""How often a training's progress bar moves for a person watching it: one full-mode epoch of the code-size study's
convolutional model (code of 32), the slowest epoch of the notebook, trained by the notebook's `train_autoencoder`
with the bar a person gets in Jupyter (its `LiveProgressLine`), every redraw of the bar timed.

    python -m benchmarks.progress_cadence       # about a minute on a 2-core CPU; run it alone

Writes results/progress-cadence-<cpu capability>.json: the seconds between consecutive redraws during the epoch,
and the longest of them.
"""

import itertools
import json
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
from notebook_access import notebook_and_images


def main():
    notebook, train_images, _ = notebook_and_images()
    redrawn = []

    def display(*objects, raw=False, display_id=None):  # IPython's display, as the bar uses it, timing each redraw
        return types.SimpleNamespace(update=lambda bundle, raw=False: redrawn.append((time.perf_counter(),
                                                                                      bundle["text/plain"])))

    notebook["display"] = display
    notebook["get_ipython"] = lambda: types.SimpleNamespace(kernel=types.SimpleNamespace(_allow_stdin=True))
    torch.manual_seed(notebook["SEED"])
    model = notebook["on_device"](notebook["make_conv_autoencoder"](32))
    start = time.perf_counter()
    history = notebook["train_autoencoder"](model, train_images, recipe=notebook["Recipe"](epochs=1), name="cnn-32")
    times = [start] + [at for at, _ in redrawn]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    result = {"machine": notebook["MACHINE"], "epoch_seconds": history["seconds"], "redraws": len(redrawn),
              "gaps_seconds": gaps, "longest_gap_seconds": max(gaps), "last_line": redrawn[-1][1]}
    output = ROOT / "results" / f"progress-cadence-{torch.backends.cpu.get_cpu_capability().lower()}.json"
    output.write_text(json.dumps(result, indent=1) + "\n")
    print(f"one epoch in {history['seconds']:.1f} s: {len(redrawn)} redraws, the longest gap {max(gaps):.2f} s")
    print(redrawn[-1][1])


if __name__ == "__main__":
    main()

"""What the code-space explorer (sections 9 and 15) costs a person who runs the notebook: the time to build its page
(the images decoded at every point of its grid, and the PNGs), the page's size, which a saved notebook keeps, and
the time the page's own script takes to draw a move, in Chromium.

    python -m benchmarks.explorer

It builds the explorer with the notebook's own definition cells for the feedforward model of section 9 and the
codes it gives the 10,000 test images: the committed run's model from checkpoints/feedforward-full.pt when it is
there (what a person's page holds), else an untrained one (said so in the output). The page's build time is the
median of 5; the drawing time is the median of 200 moves, each a slider's value set and its input event sent, timed
in the page (needs Debian's `chromium` and `playwright`; skipped without).
"""

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from notebook_access import ROOT, notebook_and_images

CHECKPOINT = ROOT / "checkpoints" / "feedforward-full.pt"
MOVES = """() => {
    const sliders = [...document.querySelectorAll("input[type=range]")], times = [];
    for (let move = 0; move < 200; move++) {
        const slider = sliders[move % 2];
        slider.value = (Number(slider.value) + 1) % (Number(slider.max) + 1);
        const start = performance.now();
        slider.dispatchEvent(new Event("input"));
        times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return [times[100], times[199]];
}"""


def drawing_times(page_html: str) -> tuple[float, float] | None:
    """The median and slowest time in milliseconds that the page took to draw a move, or None without a browser."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = Path(folder) / "explorer.html"
        path.write_text(f"<!DOCTYPE html><html><body>{page_html}</body></html>")
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(path.as_uri())
        page.wait_for_selector("[data-point]")
        times = page.evaluate(MOVES)
        browser.close()
    return times[0], times[1]


def main():
    notebook, _, _, test_images, test_labels = notebook_and_images(labels=True)
    model = notebook["on_device"](notebook["make_feedforward_autoencoder"]())
    if CHECKPOINT.is_file():
        model.load_state_dict(torch.load(CHECKPOINT, map_location=notebook["DEVICE"], weights_only=True)["state_dict"])
        which = f"trained ({CHECKPOINT.relative_to(ROOT)})"
    else:
        which = "untrained (no checkpoint: run the notebook in full mode first for a person's page)"
    codes, labels = notebook["encode"](model, test_images).cpu(), test_labels.cpu()
    start = tuple(codes.median(dim=0).values.tolist())
    explorer = notebook["CodeSpaceExplorer"](model, codes, labels, "benchmark", start=start)
    builds = []
    for _ in range(5):
        began = time.perf_counter()
        page_html = explorer.page()
        builds.append(time.perf_counter() - began)
    xs, ys, _ = explorer.grid()
    print(f"model: {which}; grid: {len(xs)} x {len(ys)} points, {len(codes):,} dots on the map")
    print(f"page built in {1000 * statistics.median(builds):.0f} ms (median of 5); {len(page_html) / 1000:.0f} kB")
    drawn = drawing_times(page_html)
    if drawn is None:
        print("drawing a move: not measured (needs chromium and playwright)")
    else:
        print(f"drawing a move in Chromium: median {drawn[0]:.2f} ms, slowest {drawn[1]:.2f} ms (200 moves)")


if __name__ == "__main__":
    main()

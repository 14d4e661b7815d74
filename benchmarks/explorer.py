"""How long the code-space explorer (sections 9 and 15) takes to redraw its picture when its cross moves: the
notebook's `CodeSpaceExplorer.picture`, which draws only the cross, the decoded image and its title over a saved
background (matplotlib's blitting), against drawing the whole figure again, 10,000 dots included.

    python benchmarks/explorer.py

It builds the explorer with the notebook's own definition cells, for an untrained feedforward model and the codes
it gives the 10,000 test images (the time does not depend on the training), moves the cross to 20 points, and
prints the median time per move both ways. In a browser the kernel's round trip and the page's drawing come on top:
tests/test_browser.py prints what JupyterLab took from a key press to the new picture.
"""

import io
import statistics
import time

import numpy as np
import torch
from PIL import Image
from speed import notebook_and_images  # this folder is on the path when a script in it runs


def whole_figure(explorer, x: float, y: float) -> bytes:
    # The same picture without blitting: every artist drawn again.
    explorer.picture(x, y)  # moves the cross and sets the image
    for artist in (explorer.cross, explorer.decoded, explorer.caption):
        artist.set_animated(False)
    explorer.canvas.draw()
    for artist in (explorer.cross, explorer.decoded, explorer.caption):
        artist.set_animated(True)
    png = io.BytesIO()
    Image.fromarray(np.asarray(explorer.canvas.buffer_rgba())).save(png, format="png", compress_level=1)
    return png.getvalue()


def main():
    notebook, _, _, test_images, test_labels = notebook_and_images(labels=True)
    torch.manual_seed(0)
    model = notebook["on_device"](notebook["make_feedforward_autoencoder"]())
    codes, labels = notebook["encode"](model, test_images).cpu(), test_labels.cpu()
    explorer = notebook["CodeSpaceExplorer"](model, codes, labels, "benchmark", start=(0.0, 0.0))
    low, high = explorer.low, explorer.high
    points = [(low[0] + (high[0] - low[0]) * i / 19, low[1] + (high[1] - low[1]) * (19 - i) / 19) for i in range(20)]
    for name, redraw in [("blitted (the notebook's)", lambda x, y: explorer.picture(x, y)),
                         ("whole figure", lambda x, y: whole_figure(explorer, x, y))]:
        times = []
        for x, y in points:
            start = time.perf_counter()
            redraw(x, y)
            times.append(time.perf_counter() - start)
        print(f"{name:26} median {1000 * statistics.median(times):6.1f} ms per move "
              f"(slowest {1000 * max(times):.1f} ms, {len(codes):,} dots)")


if __name__ == "__main__":
    main()

"""What the two explorers of the notebook show, measured: section 9's map of the feedforward model's 2-D codes and
section 15's map of the VAE's mean codes, for the committed run's models.

    python -m experiments.code_spaces

It uses the notebook's own definition cells in full mode (the models, `encode`, `decode`, `CodeSpaceExplorer`,
`knn_classes`, the data), and the committed run's models from checkpoints/feedforward-full.pt and
checkpoints/vae-full.pt (run the notebook in full mode first). A decoded image is judged as section 12 judges a
code, by the notebook's `knn_classes`: the most common class of its 5 nearest training images, here by their pixels. Its brightness is the mean of
its pixels, its contrast their standard deviation, and its sharpness the mean absolute difference between
neighbouring pixels.

- Section 9: a walk down the trousers' arm of the map (the median code 1 of the trouser test images, code 2 from
  their median down to the explorer's lowest point), and the training codes in each sixteenth of the explorer's map.
- Section 15: the share of the test images' mean codes within a radius of the origin, beside the prior's share, and
  the images decoded at the origin and in eight directions at radii from 0.5 to 2.5.

Writes results/code-spaces.json, which tests/test_claims.py holds the two sections' sentences to.
"""

import json
import math

import torch

from notebook_access import ROOT, committed_model, notebook_and_data

DIRECTIONS = {"right": 0, "up right": 45, "up": 90, "up left": 135, "left": 180, "down left": 225, "down": 270,
              "down right": 315}  # degrees from code 1's axis
RADII = [0.5, 1.0, 1.5, 2.0, 2.5]  # in the prior's standard deviations
SHARE_RADII = [0.5, 1.0, 2.0, 3.0]
WALK_STEPS = 12
MAP_CELLS = 4  # the explorer's map cut into 4 x 4 cells


def main():
    notebook, data = notebook_and_data()
    test_images, test_labels = data.test_images, data.test_labels
    device, class_names = notebook["DEVICE"], notebook["CLASS_NAMES"]

    def test_mse(model) -> float:
        # The committed run's models reproduce its metrics (tests/test_claims.py compares them).
        return notebook["mean_errors"](model, test_images)["mse"]

    def decoded(model, points: list[tuple[float, float]]) -> list[dict]:
        images = notebook["decode"](model, torch.tensor(points, dtype=torch.float32, device=device))
        judged = notebook["knn_classes"](data.training_images, data.training_labels, images)
        rows = []
        for point, image, judged_class in zip(points, images.cpu()[:, 0], judged.tolist()):
            sharpness = torch.cat([(image[:, 1:] - image[:, :-1]).abs().flatten(),
                                   (image[1:] - image[:-1]).abs().flatten()]).mean()
            rows.append({"code": list(point), "judged_class": class_names[judged_class],
                         "brightness": image.mean().item(), "contrast": image.std().item(),
                         "sharpness": sharpness.item()})
        return rows

    results = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
               "judge": "the most common class of the 5 nearest training images by pixels"}

    feedforward = committed_model(notebook, "make_feedforward_autoencoder", "feedforward")
    codes, labels = notebook["encode"](feedforward, test_images).cpu(), test_labels.cpu()
    training_codes = notebook["encode"](feedforward, data.train_images).cpu()  # the images it trained on
    explorer = notebook["CodeSpaceExplorer"](feedforward, codes, labels, "section 9",
                                             start=tuple(codes.median(dim=0).values.tolist()))
    trousers = codes[labels == class_names.index("Trouser")]
    along, top = trousers[:, 0].median().item(), trousers[:, 1].median().item()
    walk = [(along, top + (explorer.low[1] - top) * step / (WALK_STEPS - 1)) for step in range(WALK_STEPS)]
    low, high = torch.tensor(explorer.low), torch.tensor(explorer.high)
    cell = ((training_codes - low) / (high - low) * MAP_CELLS).floor().clamp(0, MAP_CELLS - 1).long()
    counts = torch.zeros(MAP_CELLS, MAP_CELLS, dtype=torch.long)  # [column left to right, row bottom to top]
    counts.index_put_((cell[:, 0], cell[:, 1]), torch.ones(len(cell), dtype=torch.long), accumulate=True)
    results["feedforward"] = {
        "test_mse": test_mse(feedforward), "map_low": explorer.low, "map_high": explorer.high,
        "lowest_code_2": {"test": codes[:, 1].min().item(), "training": training_codes[:, 1].min().item(),
                          "trousers": trousers[:, 1].min().item()},
        "trousers_walk": decoded(feedforward, walk),
        "training_codes_per_map_cell": counts.tolist(),
        # What the decoder draws where no code lies: the map's bottom-left corner.
        "bottom_left_corner": decoded(feedforward, [(explorer.low[0], explorer.low[1])])[0]}

    vae = committed_model(notebook, "make_variational_autoencoder", "vae")
    means = notebook["encode"](vae, test_images).chunk(2, dim=1)[0].cpu()
    radii = means.norm(dim=1)
    ring = [(radius * math.cos(math.radians(angle)), radius * math.sin(math.radians(angle)))
            for radius in RADII for angle in DIRECTIONS.values()]
    images = decoded(vae, [(0.0, 0.0), *ring])
    results["vae"] = {
        "test_mse": test_mse(vae),
        "share_within": {str(radius): {"codes": (radii < radius).double().mean().item(),
                                       "prior": 1 - math.exp(-radius ** 2 / 2)} for radius in SHARE_RADII},
        "centre": images[0],
        "directions": {name: {str(radius): images[1 + i * len(DIRECTIONS) + j] for i, radius in enumerate(RADII)}
                       for j, name in enumerate(DIRECTIONS)}}

    for row in results["feedforward"]["trousers_walk"]:
        print(f"trousers' arm at ({row['code'][0]:6.2f}, {row['code'][1]:6.2f}): {row['judged_class']:11} "
              f"brightness {row['brightness']:.3f} sharpness {row['sharpness']:.3f}")
    for radius, share in results["vae"]["share_within"].items():
        print(f"VAE mean codes within {radius}: {share['codes']:.3f} (prior {share['prior']:.3f})")
    for name, by_radius in [("centre", {"0": results["vae"]["centre"]}), *results["vae"]["directions"].items()]:
        print(f"VAE {name:10}", "  ".join(f"{radius}: {row['judged_class'][:8]:8} {row['contrast']:.2f}"
                                           for radius, row in by_radius.items()))
    (ROOT / "results" / "code-spaces.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

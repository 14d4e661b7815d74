"""Sections 11 and 12: what a code is worth in bits (quantised codes, JPEG, WebP, PNG) and what the codes know
(nearest neighbours, a linear probe). The functions are checked against independent computations; the quick run's
numbers against their definitions."""

import io
import itertools

import numpy as np
import pytest
import torch
from PIL import Image, features
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from notebook_access import code_quality_table_mismatches, compression_table_mismatches


def test_quantisation_keeps_levels_in_range_and_rounds_to_the_nearest(notebook):
    codes = torch.tensor([[-1.0, 10.0], [0.0, 20.0], [1.0, 30.0], [5.0, 0.0]])
    low, high = torch.tensor([-1.0, 10.0]), torch.tensor([1.0, 30.0])
    levels = notebook["quantize"](codes, low, high, 2)  # 4 levels: -1, -1/3, 1/3, 1 and 10, 16.7, 23.3, 30
    assert levels.tolist() == [[0, 0], [2, 2], [3, 3], [3, 0]]  # 0 and 20 lie half-way: rounded to even; 5 and 0 clipped
    restored = notebook["dequantize"](levels, low, high, 2)
    assert torch.allclose(restored[2], torch.tensor([1.0, 30.0]))
    for bits in [2, 4, 8]:
        step = (high - low) / (2**bits - 1)
        inside = torch.rand(1000, 2) * (high - low) + low
        error = notebook["dequantize"](notebook["quantize"](inside, low, high, bits), low, high, bits) - inside
        assert (error.abs() <= step / 2 + 1e-6).all()


def test_the_entropy_rate_is_the_cross_entropy_and_never_above_the_fixed_length(notebook):
    training = torch.tensor([[0], [0], [0], [1]])  # of 4 levels: counts 3, 1, 0, 0, plus one each
    test = torch.tensor([[0], [1]])
    counts = torch.tensor([3.0, 1.0, 0.0, 0.0]) + 1
    expected = (-(counts[0] / counts.sum()).log2() - (counts[1] / counts.sum()).log2()).item() / 2
    assert notebook["entropy_coded_bits"](training, test, 2) == pytest.approx(expected)
    uniform_training = torch.arange(4).repeat(10)[:, None]
    rare_test = torch.full((5, 1), 3)
    assert notebook["entropy_coded_bits"](uniform_training, rare_test, 2) <= 2


def test_codec_sizes_are_the_lengths_of_the_encoded_files(notebook):
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    images = (images * 255).round() / 255
    codecs = [("JPEG", 50), ("PNG", None)] + ([("WEBP", 25)] if features.check("webp") else [])
    for codec, quality in codecs:
        decoded, sizes = notebook["codec_round_trip"](images, codec, quality)
        for image, size, back in zip(images, sizes, decoded):
            file = io.BytesIO()
            pixels = (image[0] * 255).round().to(torch.uint8).numpy()
            Image.fromarray(pixels).save(file, format=codec, **({} if quality is None else {"quality": quality}))
            assert size == len(file.getvalue())
            reread = np.array(Image.open(io.BytesIO(file.getvalue())).convert("L"))
            assert torch.equal(back[0], torch.from_numpy(reread).float() / 255)
    png, _ = notebook["codec_round_trip"](images, "PNG")
    assert torch.equal(png, images)


def test_knn_accuracy_on_raw_pixels_agrees_with_scikit_learn(notebook, data_root):
    train_images, train_labels = notebook["load_split"](data_root, train=True, device=notebook["DEVICE"])
    test_images, test_labels = notebook["load_split"](data_root, train=False, device=notebook["DEVICE"])
    references, queries = train_images[:3000], test_images[:600]
    ours = notebook["knn_accuracy"](references, train_labels[:3000], queries, test_labels[:600], k=5)
    theirs = KNeighborsClassifier(n_neighbors=5).fit(references.flatten(1).cpu().double().numpy(),
                                                      train_labels[:3000].cpu().numpy())
    assert ours == theirs.score(queries.flatten(1).cpu().double().numpy(), test_labels[:600].cpu().numpy())
    assert 0.6 < ours < 1


def test_nearest_neighbours_are_the_closest(notebook):
    references = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [0.0, 2.0]])
    queries = torch.tensor([[0.9, 0.1], [4.0, 4.0]])
    assert notebook["nearest_neighbours"](references, queries, 2).tolist() == [[1, 0], [2, 3]]
    ties = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [0.5, 0.0]])  # all but the last at 1
    assert notebook["nearest_neighbours"](ties, torch.zeros(1, 2), 3).tolist() == [[4, 0, 1]]  # lower index first
    wide = ties.repeat(1, 10)  # the same, with 20 numbers: found by the matrix multiply, not the k-d tree
    assert notebook["nearest_neighbours"](wide, torch.zeros(1, 20), 3).tolist() == [[4, 0, 1]]


def exact_neighbours(references: torch.Tensor, queries: torch.Tensor, k: int) -> np.ndarray:
    """The k nearest references of each query by float64 distances computed here, nearest first, ties by index."""
    references, queries = references.flatten(1).cpu().double().numpy(), queries.flatten(1).cpu().double().numpy()
    return np.stack([np.argsort(((references - query) ** 2).sum(axis=1), kind="stable")[:k] for query in queries])


@pytest.mark.parametrize("representation", [("pixels", False, 784), ("cnn", True, 1568), ("feedforward", True, 2),
                                            ("pca", False, 8), ("cnn", False, 32)], ids=lambda key: f"{key[0]}-{key[2]}")
def test_the_neighbours_of_the_quick_runs_codes_are_those_of_exact_distances(watched_retrain, representation):
    _, namespace, _ = watched_retrain
    references, queries = namespace["representations"][representation]
    found = namespace["nearest_neighbours"](references, queries[:200], 5)
    np.testing.assert_array_equal(found.numpy(), exact_neighbours(references, queries[:200], 5))


@pytest.mark.parametrize("dimensions", [2, 32])  # the k-d tree's search and the matrix multiply's
def test_a_query_whose_candidates_cannot_decide_is_measured_against_every_reference(notebook, dimensions):
    # With as many candidates as neighbours, the k-th candidate is never nearer than the bound for the others:
    # every query is measured in full, and the answer is still the exact one.
    generator = torch.Generator().manual_seed(0)
    references, queries = torch.randn(3000, dimensions, generator=generator), torch.randn(40, dimensions, generator=generator)
    full_searches = []
    measure = notebook["squared_distances"]
    notebook["squared_distances"] = lambda *args: full_searches.append(1) or measure(*args)
    found = notebook["nearest_neighbours"](references, queries, 5, candidates=5)
    assert len(full_searches) == 40 * 3  # every query, 1,000 references at a time
    np.testing.assert_array_equal(found.numpy(), exact_neighbours(references, queries, 5))
    full_searches.clear()
    np.testing.assert_array_equal(notebook["nearest_neighbours"](references, queries, 5).numpy(),
                                  exact_neighbours(references, queries, 5))
    assert len(full_searches) < 40  # with the default candidates, the bound decides for most queries


def sklearn_objective(coefficients: np.ndarray, intercepts: np.ndarray, x: np.ndarray, labels: np.ndarray) -> float:
    """scikit-learn's LogisticRegression objective (C = 1): the mean cross-entropy + |W|^2 / (2 n)."""
    logits = x @ coefficients.T + intercepts
    logits -= logits.max(axis=1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(x)), labels].mean() + (coefficients**2).sum() / (2 * len(x))


def test_the_linear_probe_converges_to_scikit_learns_answer(notebook, data_root):
    images, labels = notebook["load_split"](data_root, train=True, device=notebook["DEVICE"])
    mean, directions = notebook["fit_pca"](images[:20_000])
    codes = notebook["pca_encode"](images[:6000], mean, directions, 32).float()
    train, test = slice(0, 5000), slice(5000, 6000)
    probe, fit = notebook["fit_linear_probe"](codes[train].to(notebook["DEVICE"]), labels[train])
    assert fit["converged"] and 10 < fit["iterations"] < notebook["PROBE_MAX_ITERATIONS"]
    scaler = StandardScaler().fit(codes[train].double().numpy())
    x, y = scaler.transform(codes[train].double().numpy()), labels[train].cpu().numpy()
    theirs = LogisticRegression(max_iter=1000).fit(x, y)
    assert theirs.n_iter_[0] < 1000  # scikit-learn converged too
    # The same minimum of the same objective: both stop once no component of the gradient exceeds 1e-4, which leaves
    # each a few 1e-5 of the objective above the minimum (seen: 0.47666 against scikit-learn's 0.47664). And the same
    # answers but for a few test images on the boundary between two classes.
    assert fit["objective"] == pytest.approx(sklearn_objective(theirs.coef_, theirs.intercept_, x, y), rel=1e-4)
    predictions = probe(codes[test].to(notebook["DEVICE"])).cpu().numpy()
    agreement = (predictions == theirs.predict(scaler.transform(codes[test].double().numpy()))).mean()
    assert agreement >= 0.99
    assert abs((predictions == labels[test].cpu().numpy()).mean() - theirs.score(
        scaler.transform(codes[test].double().numpy()), labels[test].cpu().numpy())) <= 0.005


def test_the_quick_run_measures_what_it_promises(quick_run):
    notebook, metrics = quick_run
    compression = metrics["compression"]
    by_method = {}
    for point in compression["quantized"]:
        assert point["fixed_bits"] == point["code_size"] * point["bits_per_number"]
        assert 0 < point["entropy_bits"] <= point["fixed_bits"] + 1e-9
        by_method.setdefault((point["method"], point["code_size"]), []).append(point)
    assert len(by_method) == 9
    for (method, code), points in by_method.items():
        mses = [p["mse"] for p in sorted(points, key=lambda p: p["bits_per_number"])]
        # Once the levels are finer than the code's spread, the error settles at the unquantised model's and the
        # rounding to levels can nudge it either way in its fifth decimal (seen: 2e-5 at 6 against 8 bits, for a
        # quick run's convolutional model after its one epoch, and 1e-5 for another design); a coarser code must
        # never be better by more than that.
        for coarser, finer in itertools.pairwise(mses):
            assert finer <= coarser + 3e-5, f"{method} {code}: the error does not fall as bits grow: {mses}"
        assert mses[-1] <= 1.05 * points[0]["mse_unquantized"], f"{method} {code}: 8 bits lose more than 5%"
    assert {p["codec"] for p in compression["codecs"]} >= {"JPEG"}
    assert all(p["bits"] == 8 * p["bytes_mean"] for p in compression["codecs"])
    assert compression_table_mismatches(notebook, metrics) == []


def test_the_quick_run_judges_every_code(quick_run):
    notebook, metrics = quick_run
    rows = metrics["code_quality"]["rows"]
    assert {(r["model"], r["code_size"]) for r in rows} >= {("pixels", 784), ("cnn", 1568), ("pca", 2), ("pca", 32),
                                                            ("feedforward", 8), ("cnn", 32)}
    assert all(0.1 < r["knn_accuracy"] <= 1 and 0.1 < r["probe_accuracy"] <= 1 for r in rows)
    assert code_quality_table_mismatches(notebook, metrics) == []

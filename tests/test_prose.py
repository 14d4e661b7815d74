"""The notebook's prose: a tutorial's register (tests/prose.py counts it), and every result it quotes is the
committed run's, held to results/metrics.json (and results/anomaly_by_class.json for the held-out classes)."""

import json
import re

import pytest

from notebook_access import (
    ROOT,
    TWO_NUMBER_CODES,
    code_quality_row,
    codec,
    quantized,
    read_notebook,
    shows,
    study_row,
)
from prose import numbers_in, paragraphs, quoted, summary


@pytest.fixture(scope="module")
def notebook():
    return read_notebook()


def seeds() -> dict:
    return json.loads((ROOT / "results" / "seeds.json").read_text())


@pytest.fixture(scope="module")
def metrics():
    return json.loads((ROOT / "results" / "metrics.json").read_text())


def markdown(notebook) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_no_paragraph_carries_more_than_a_dozen_numbers(notebook):
    crowded = [text[:80] for text in paragraphs(notebook) if len(numbers_in(text)) > 12]
    assert crowded == [], "a paragraph with many numbers reads better as a table"


def test_most_paragraphs_carry_three_numbers_or_fewer_and_the_prose_is_about_5000_words(notebook):
    counts = summary(notebook)
    assert counts["paragraphs_with_at_most_3_numbers"] >= 0.65
    assert counts["numbers_per_paragraph_mean"] <= 3
    assert 4000 <= counts["words"] <= 5000


# The commonest words of English prose: a paragraph of real sentences has many of them, filler text none.
FUNCTION_WORDS = {"a", "an", "the", "of", "to", "in", "is", "it", "and", "or", "that", "this", "for", "with", "on", "as",
                  "by", "be", "are", "can", "not", "what", "how", "why", "so", "but", "its", "from", "at", "one"}


def reads_as_prose(text: str) -> bool:
    words = [word.lower() for word in re.findall(r"[A-Za-z']+", text)]
    return len(set(words)) >= 0.5 * len(words) and sum(word in FUNCTION_WORDS for word in words) >= 0.15 * len(words)


def test_every_numbered_section_opens_with_a_paragraph_on_why(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (heading := re.search(r"^## (\d+)\. .*$", cell.source, re.MULTILINE)):
            after = cell.source[heading.end():].strip()
            opening = re.split(r"\n\s*\n", after)[0] if after else ""
            assert 25 <= len(opening.split()) <= 140, f"section {heading.group(1)} opens with {opening[:60]!r}"
            assert reads_as_prose(opening), f"section {heading.group(1)} opens with {opening[:60]!r}"


def test_filler_text_does_not_read_as_prose():
    assert not reads_as_prose(" ".join(["lorem"] * 30) + ".")
    assert not reads_as_prose("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
                              "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud.")


def test_there_are_three_to_six_try_it_prompts_that_name_what_to_change(notebook):
    prompts = re.findall(r"> \*\*Try it\.\*\* (.*?)(?:\n\n|\Z)", markdown(notebook), re.DOTALL)
    assert 3 <= len(prompts) <= 6  # one for each explorer among them
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for prompt in prompts:
        # A constant of the notebook to change (it must exist), or the explorer's cross, moved with its sliders.
        constants = re.findall(r"`([A-Z][A-Z0-9_]*)(?: = [^`]+)?`", prompt)
        assert constants or re.search(r"\bcross\b", prompt), prompt[:80]
        for constant in constants:
            assert re.search(rf"^{constant} = ", code, re.MULTILINE), f"the notebook has no constant {constant}"


def test_plumbing_is_folded_in_colab_and_explained_under_the_hood(notebook):
    forms = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith("# @title ")]
    assert len(forms) >= 8
    assert all(cell.metadata.get("cellView") == "form" for cell in forms)
    assert all(cell.source.startswith("# @title ") for cell in notebook.cells if cell.metadata.get("cellView") == "form")
    assert notebook.cells[-1].source.startswith("## Under the hood")


def section(notebook, number: int) -> str:
    """The markdown of a numbered section (up to the next one), as one text."""
    text = markdown(notebook)
    start = text.index(f"\n## {number}. ")
    following = re.search(r"\n## (\d+\. |Summary|Under the hood)", text[start + 1:])
    return text[start:start + 1 + following.start()] if following else text[start:]


def gains_over_pca(metrics) -> list[float]:
    return [100 * (1 - study_row(metrics, model, code, original)["mse"] / study_row(metrics, "pca", code)["mse"])
            for model, code, original in [("feedforward", 2, True), ("feedforward", 2, False), ("cnn", 2, False),
                                          ("feedforward", 8, False), ("cnn", 8, False), ("feedforward", 32, False),
                                          ("cnn", 32, False)]]


def test_section_7_quotes_the_run(notebook, metrics):
    # The table of section 7 is the notebook's own output; its prose quotes only the seed table (tests/test_seeds.py).
    ratio = metrics["models"]["feedforward"]["mae_mean"] / metrics["models"]["feedforward"]["original_metric_mean"]
    (shown,) = quoted(markdown(notebook), r"the true MAE per image is ([\d.]+) times it for the feedforward model")
    assert shows(shown, ratio)


def epochs_to_reach(errors: list[float], target: float) -> int | None:
    return next((epoch for epoch, error in enumerate(errors, 1) if error <= target), None)


def test_section_8_quotes_the_run(notebook, metrics):
    text = section(notebook, 8)
    low, high = quoted(text, r"beats PCA at the same code size, by (\d+) to (\d+)% in MSE")
    assert shows(low, min(gains_over_pca(metrics))) and shows(high, max(gains_over_pca(metrics)))
    best_at_2 = min(study_row(metrics, model, 2, original)["mse"] for model, original in
                    [("feedforward", True), ("feedforward", False), ("cnn", False)])
    (gain,) = quoted(text, r"a better architecture at 2 numbers gains (\d+)%")
    assert shows(gain, 100 * (1 - best_at_2 / metrics["models"]["feedforward"]["mse"]))
    # Which design wins at which code size, by how much, and how the curves per epoch compare.
    ff, cnn = ({code: study_row(metrics, model, code) for code in (2, 8, 32)} for model in ("feedforward", "cnn"))
    assert cnn[32]["mse"] < ff[32]["mse"] and ff[2]["mse"] < cnn[2]["mse"] and ff[8]["mse"] < cnn[8]["mse"]
    ff_epochs, cnn_epochs = quoted(text, r"On the study's terms, (\d+) feedforward epochs against (\d+) convolutional")
    assert all(row["epochs"] == int(ff_epochs) for row in ff.values())
    assert all(row["epochs"] == int(cnn_epochs) for row in cnn.values())
    at_2, at_8 = quoted(text, r"at 32 numbers the convolutional model has the lowest error, at 2 and 8 the deeper "
                              r"feedforward model, by (\d+)% and (\d+)%")
    assert shows(at_2, 100 * (cnn[2]["mse"] / ff[2]["mse"] - 1)) and shows(at_8, 100 * (cnn[8]["mse"] / ff[8]["mse"] - 1))
    # "Those two leads owe much to the extra epochs: after 8 epochs each, the two tied at 8 numbers (a against b)."
    epochs, code, ff_at, cnn_at = quoted(text, r"after (\d+) epochs each, the two tied at (\d+) numbers "
                                               r"\(([\d.]+) against ([\d.]+)\)")
    assert int(epochs) == int(cnn_epochs)
    at_equal_epochs = {size: (ff[size]["test_mse_by_epoch"][int(epochs) - 1], cnn[size]["test_mse_by_epoch"][int(epochs) - 1])
                       for size in (2, 8)}
    assert shows(ff_at, at_equal_epochs[int(code)][0]) and shows(cnn_at, at_equal_epochs[int(code)][1])
    assert abs(cnn_at_equal := at_equal_epochs[int(code)][1] / at_equal_epochs[int(code)][0] - 1) < 0.005, cnn_at_equal
    for size in (2, 8):  # each lead is smaller at equal epochs than after the feedforward model's extra ones
        ff_equal, cnn_equal = at_equal_epochs[size]
        assert cnn_equal / ff_equal < cnn[size]["mse"] / ff[size]["mse"], size
    # "from 2 to 8 numbers the best model's error halves"
    assert "from 2 to 8 numbers the best model's error halves" in " ".join(text.split())
    best = {size: min(study_row(metrics, model, size, original)["mse"] for model, original in
                      [("feedforward", False), ("cnn", False)]) for size in (2, 8)}
    assert 0.45 <= best[8] / best[2] <= 0.55
    after, needs = quoted(text, r"after (\d+) epochs its error is one the feedforward model needs (\d+) to reach")
    reached = cnn[32]["test_mse_by_epoch"][int(after) - 1]
    assert int(needs) == epochs_to_reach(ff[32]["test_mse_by_epoch"], reached)
    # "Per second on this CPU it is the other way round: a convolutional epoch costs about five feedforward ones,
    # and at every training time the feedforward model reached, its error is the lower."
    (count,) = quoted(text, r"a convolutional epoch costs about (\w+) feedforward ones")
    per_epoch = {model: row[32]["elapsed_seconds"][-1] / row[32]["epochs"] for model, row in (("ff", ff), ("cnn", cnn))}
    assert ["three", "four", "five", "six", "seven"].index(count) + 3 == round(per_epoch["cnn"] / per_epoch["ff"])
    assert error_at(ff[32], ff[32]["elapsed_seconds"][-1]) < error_at(cnn[32], ff[32]["elapsed_seconds"][-1])
    for seconds in ff[32]["elapsed_seconds"] + [t for t in cnn[32]["elapsed_seconds"] if t <= ff[32]["elapsed_seconds"][-1]]:
        assert error_at(ff[32], seconds) < error_at(cnn[32], seconds), seconds


def test_section_8_says_what_a_doubled_budget_changes(notebook, metrics):
    # "Doubling either model's epochs, or both (experiments/doubled_budget.py, one seed), changes no winner; but with
    # 16 epochs the convolutional model comes within 0.2% of the feedforward model's 20 at 8 numbers. So only at 2
    # and 32 numbers does a design win clearly."
    from experiments import doubled_budget

    record = json.loads((ROOT / "results" / "doubled-budget-avx2.json").read_text())
    assert doubled_budget.problems(record, metrics) == []
    text = section(notebook, 8)
    cnn_epochs, gap, ff_epochs, code = quoted(
        text, r"Doubling either model's epochs, or both \(`experiments/doubled_budget.py`, one seed\), changes no "
              r"winner; but with (\d+) epochs the convolutional model comes within ([\d.]+)% of the feedforward "
              r"model's (\d+) at (\d+) numbers\. So only at 2 and 32 numbers does a design win clearly")
    winners = doubled_budget.winners(record, metrics)
    for size in (2, 8, 32):
        assert len({winners[budget, size] for budget, _, _ in doubled_budget.budgets(metrics)}) == 1, size
    relative = doubled_budget.convolutional_against_feedforward(record, metrics)
    budget = next(name for name, f, c in doubled_budget.budgets(metrics) if (f, c) == (int(ff_epochs), int(cnn_epochs)))
    assert shows(gap, 100 * relative[budget, int(code)])

    def gaps(size: int) -> list[float]:
        return [abs(relative[name, size]) for name, _, _ in doubled_budget.budgets(metrics)]

    assert min(gaps(2)) > 0.01 and min(gaps(32)) > 0.01 and min(gaps(8)) < 0.01  # "clearly": by more than 1%


def error_at(row: dict, seconds: float) -> float:
    """A study model's test error after the last epoch it had finished at this training time (inf before the first)."""
    finished = [error for error, at in zip(row["test_mse_by_epoch"], row["elapsed_seconds"]) if at <= seconds]
    return finished[-1] if finished else float("inf")


def test_section_11_quotes_the_run(notebook, metrics):
    text = section(notebook, 11)
    point = quantized(metrics, "feedforward", 32, 4)
    size, psnr = quoted(text, r"needs about (\d+) bytes per image for a PSNR of ([\d.]+) dB")
    assert shows(size, point["entropy_bits"] / 8) and shows(psnr, point["psnr"])
    webp, jpeg, png = quoted(text, r"WebP's smallest file takes (\d+) bytes and JPEG's (\d+), and PNG stores the image "
                                   r"losslessly in (\d+) bytes")
    assert shows(webp, codec(metrics, "WEBP", 0)["bytes_mean"]) and shows(jpeg, codec(metrics, "JPEG", 10)["bytes_mean"])
    assert shows(png, metrics["compression"]["png_bits"] / 8)
    decoder, codes = quoted(text, r"is ([\d.]+) MB of weights, the size of about ([\d,]+) of its codes")
    decoder_bytes = metrics["compression"]["decoder_bytes"]["feedforward-32"]
    assert shows(decoder, decoder_bytes / 1e6)
    assert abs(float(codes.replace(",", "")) - decoder_bytes / (point["entropy_bits"] / 8)) < 5000
    floor, webp_best, jpeg_best = quoted(text, r"about (\d+) dB, while WebP goes on to ([\d.]+) dB and JPEG to ([\d.]+) dB")
    assert shows(floor, quantized(metrics, "feedforward", 32, 8)["psnr"])
    for shown, name in [(webp_best, "WEBP"), (jpeg_best, "JPEG")]:
        assert shows(shown, max(p["psnr"] for p in metrics["compression"]["codecs"] if p["codec"] == name))
    (smallest_jpeg,) = quoted(text, r"even at quality 5 its file is (\d+) bytes")
    assert shows(smallest_jpeg, codec(metrics, "JPEG", 5)["bytes_mean"])
    within = metrics["compression"]["operating_points"]
    for code in (2, 8, 32):
        pca = within[f"PCA, code of {code}"]["best_psnr_within_256_bits"]
        for kind in ("deeper feedforward AE", "convolutional AE"):
            assert within[f"{kind}, code of {code}"]["best_psnr_within_256_bits"] > pca  # "every autoencoder beats PCA"


def test_section_12_quotes_the_run(notebook, metrics):
    codes, pixels = quoted(section(notebook, 12), r"classify about (\d+)% of the test images correctly, more than the "
                                                  r"([\d.]+)% of the raw 784 pixels")
    for model in ("feedforward", "cnn"):
        assert abs(float(codes) - 100 * code_quality_row(metrics, model, 32)["knn_accuracy"]) <= 1
        assert code_quality_row(metrics, model, 32)["knn_accuracy"] > code_quality_row(metrics, "pixels", 784)["knn_accuracy"]
    assert shows(pixels, 100 * code_quality_row(metrics, "pixels", 784)["knn_accuracy"])
    # "At 32 numbers the convolutional code, which reconstructs better, is also read better by the probe, but 5
    # nearest neighbours rate the two codes alike."
    ff, cnn = code_quality_row(metrics, "feedforward", 32), code_quality_row(metrics, "cnn", 32)
    assert study_row(metrics, "cnn", 32)["mse"] < study_row(metrics, "feedforward", 32)["mse"]
    assert ff["probe_accuracy"] < cnn["probe_accuracy"] and abs(ff["knn_accuracy"] - cnn["knn_accuracy"]) < 0.005
    # "At 2 numbers the deeper feedforward code, which reconstructs best, also serves 5 nearest neighbours best; the
    # probe scores 7 points lower on it here, 4 to 15 over the five seeds."
    points, low, high = quoted(section(notebook, 12), r"the probe scores (\d+) points lower on it here, (\d+) to (\d+) "
                                                      r"over the five seeds")
    best_mse = min(TWO_NUMBER_CODES, key=lambda code: study_row(metrics, *code)["mse"])
    best_knn = max(TWO_NUMBER_CODES, key=lambda code: code_quality_row(metrics, *code)["knn_accuracy"])
    assert best_mse == best_knn == ("feedforward", 2, False)

    def gap(numbers: dict) -> float:
        deeper = code_quality_row(numbers, "feedforward", 2)
        return 100 * (deeper["knn_accuracy"] - deeper["probe_accuracy"])

    assert abs(float(points) - gap(metrics)) <= 0.5
    gaps = [gap(run["reproducible"]) for run in seeds()["runs"].values()]
    assert len(gaps) == 5 and abs(float(low) - min(gaps)) <= 0.5 and abs(float(high) - max(gaps)) <= 0.5
    # "the probe learns from 10,000 training codes, the neighbours search all 60,000"
    assert "the probe learns from 10,000 training codes, the neighbours search all 60,000" in " ".join(
        section(notebook, 12).split())
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "PROBE_TRAINING_IMAGES = 500 if QUICK else 10_000" in code and metrics["train_images"] == 60_000


def test_sections_13_to_15_quote_the_run(notebook, metrics):
    denoising, anomaly, vae = metrics["denoising"], metrics["anomaly"], metrics["vae"]
    noisy, denoised, gain = quoted(section(notebook, 13), r"PSNR drops to ([\d.]+) dB.*?reaches ([\d.]+) dB, ([\d.]+) dB "
                                                          r"above the original CNN")
    assert shows(noisy, denoising["psnr_noisy"]) and shows(denoised, denoising["psnr_denoised"])
    assert shows(gain, denoising["psnr_denoised"] - denoising["psnr_plain_cnn"])
    text = section(notebook, 14)
    auc, share, recall, precision, all_classes = quoted(
        text, r"the ROC-AUC is ([\d.]+), so a random test bag scores above a random other test image (\d+)% of the "
              r"time\. At the threshold chosen from training images alone it flags (\d+)% of the bags with a "
              r"precision of ([\d.]+)\..*reaches an AUC of only ([\d.]+)")
    assert shows(auc, anomaly["roc_auc"]) and shows(share, 100 * anomaly["roc_auc"])
    assert shows(recall, 100 * anomaly["recall"]) and shows(precision, anomaly["precision"])
    assert shows(all_classes, anomaly["roc_auc_trained_on_all_classes"])
    # "So difficulty alone gives 57% of the separation above chance (0.5) in this run, 49 to 65% over the five seeds,
    # and novelty the rest."
    share, low, high = quoted(text, r"difficulty alone gives (\d+)% of the separation above chance \(0\.5\) in this "
                                    r"run, (\d+) to (\d+)% over the five seeds")

    def difficulty_share(numbers: dict) -> float:
        return 100 * (numbers["roc_auc_trained_on_all_classes"] - 0.5) / (numbers["roc_auc"] - 0.5)

    shares = [difficulty_share(run["reproducible"]["anomaly"]) for run in seeds()["runs"].values()]
    assert shows(share, difficulty_share(anomaly)) and shows(low, min(shares)) and shows(high, max(shares))
    by_class = json.loads((ROOT / "results" / "anomaly_by_class.json").read_text())["classes"]
    table = re.findall(r"^\| ([A-Za-z/ -]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", text, re.MULTILINE)
    assert len(table) == len(by_class) == 10
    for name, *shown in table:
        row = next(row for row in by_class if row["held_out_class"] == name)
        expected = [row["roc_auc"], row["roc_auc_trained_on_all_classes"], row["precision"], row["recall"]]
        assert all(map(shows, shown, expected)), name
    ours, plain = quoted(section(notebook, 15), r"test MSE ([\d.]+) against ([\d.]+) here")
    assert shows(ours, vae["mse"]) and shows(plain, vae["mse_plain_autoencoder"])


def test_the_summary_quotes_the_run(notebook, metrics):
    text = markdown(notebook)
    text = text[text.index("## Summary"):text.index("## Under the hood")]
    quoted_ratio, gain = quoted(text, r"true MAE per image is ([\d.]+) times it .* by at least (\d+)% in MSE")
    assert shows(quoted_ratio, metrics["models"]["feedforward"]["mae_mean"] /
                 metrics["models"]["feedforward"]["original_metric_mean"])
    assert shows(gain, min(gains_over_pca(metrics)))
    size, psnr, webp, floor = quoted(text, r"takes about (\d+) bytes per image for (\d+) dB, where WebP needs (\d+) bytes.*"
                                           r"the codes stop at about (\d+) dB")
    point = quantized(metrics, "feedforward", 32, 4)
    assert shows(size, point["entropy_bits"] / 8) and shows(psnr, point["psnr"])
    assert shows(webp, codec(metrics, "WEBP", 0)["bytes_mean"])
    assert shows(floor, quantized(metrics, "feedforward", 32, 8)["psnr"])
    (accuracy,) = quoted(text, r"classify (\d+)% of the test images")
    assert shows(accuracy, 100 * code_quality_row(metrics, "feedforward", 32)["knn_accuracy"])
    noisy, denoised = quoted(text, r"from ([\d.]+) dB to ([\d.]+) dB")
    assert shows(noisy, metrics["denoising"]["psnr_noisy"]) and shows(denoised, metrics["denoising"]["psnr_denoised"])
    (auc,) = quoted(text, r"ROC-AUC of ([\d.]+)")
    assert shows(auc, metrics["anomaly"]["roc_auc"])

"""The README is a newcomer's page: short, a picture the notebook made at the top, and every number it quotes is the
committed run's (the results table is held to results/ by tests/test_seeds.py)."""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from notebook_access import ROOT, read_notebook, run_minutes
from prose import summary

README = (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def metrics():
    return json.loads((ROOT / "results" / "metrics.json").read_text())


def test_it_is_at_most_150_lines_without_a_history_of_runs():
    assert len(README.splitlines()) <= 150
    assert not re.search(r"Zen \d|family \d+", README), "CPU models and histories belong in benchmarks/"


def test_it_opens_with_a_picture_that_the_notebook_saves():
    (picture,) = re.findall(r"!\[[^\]]+\]\((results/[\w-]+)\.png\)", README[:1500])
    assert (ROOT / f"{picture}.png").is_file()
    name = picture.removeprefix("results/")
    assert any(f'save_as="{name}"' in cell.source for cell in read_notebook().cells if cell.cell_type == "code")


def test_its_settings_table_lists_every_setting_the_notebook_reads():
    code = "\n".join(cell.source for cell in read_notebook().cells if cell.cell_type == "code")
    read = set(re.findall(r'read_\w+\("((?:AUTOENCODERS|FASHION_MNIST)_\w+)"', code))
    listed = set(re.findall(r"^\| `(\w+)` \|", README, re.MULTILINE))
    assert read and read == listed


def finding(pattern: str) -> tuple[str, ...]:
    found = re.search(pattern, " ".join(README.split()))
    assert found, f"the README no longer says {pattern!r}"
    return tuple(group.rstrip(".") for group in found.groups())


def summary_findings() -> list[tuple[str, str]]:
    """The notebook's summary: (finding, section) for every row of its table of findings."""
    (cell,) = [cell for cell in read_notebook().cells if cell.cell_type == "markdown" and cell.source.startswith("## Summary")]
    return re.findall(r"^\| (.+?) \| (\d+) \|$", cell.source, re.MULTILINE)


def test_its_findings_are_the_notebooks_summary():
    # One list of findings, written once in the notebook's summary (whose numbers tests/test_prose.py holds to the
    # sections): the README quotes it whole, each with its section.
    findings = summary_findings()
    assert len(findings) >= 8
    quoted = re.findall(r"^- (.+) \(section (\d+)\)\.$", README[README.index("What the notebook finds"):], re.MULTILINE)
    assert quoted == findings


def test_its_test_command_is_the_first_line_of_the_sh_block_under_tests():
    # .ci/run runs exactly this line.
    section = README[README.index("## Tests"):]
    assert section[section.index("```sh") + len("```sh"):].strip().splitlines()[0] == "pytest"


def shown_png(cell) -> Image.Image:
    (png,) = [output.data["image/png"] for output in cell.outputs if "image/png" in output.get("data", {})]
    return Image.open(io.BytesIO(base64.b64decode(png)))


def difference(saved: Image.Image, shown: Image.Image) -> float:
    """Mean absolute difference of two pictures' grey levels (0 to 255), both scaled to one small size: the saved file
    and the notebook's own output are drawn at different resolutions."""
    size = (240, round(240 * shown.height / shown.width))
    a, b = (np.asarray(picture.convert("L").resize(size, Image.LANCZOS), dtype=float) for picture in (saved, shown))
    return float(np.abs(a - b).mean())


def test_its_picture_is_the_figure_the_committed_run_showed():
    (picture,) = re.findall(r"!\[[^\]]+\]\((results/[\w-]+)\.png\)", README[:1500])
    name = picture.removeprefix("results/")
    (cell,) = [cell for cell in read_notebook().cells if cell.cell_type == "code" and f'save_as="{name}"' in cell.source]
    shown = shown_png(cell)
    saved = Image.open(ROOT / f"{picture}.png")  # garbage bytes fail here
    saved.load()
    assert abs(saved.width / saved.height - shown.width / shown.height) < 0.02
    assert difference(saved, shown) < 12
    # The measure tells figures apart: every other figure the run saved differs from the one shown by far more.
    others = [path for path in (ROOT / "results").glob("*.png") if path.stem != name]
    assert others and all(difference(Image.open(path), shown) > 40 for path in others)


def test_it_says_what_a_reader_spends():
    notebook = read_notebook()
    minutes, words, figures = finding(r"Reading it takes about (\d+) minutes \(([\d,]+) words of prose at 200 words a "
                                      r"minute, and (\d+) figures\)")
    counted = summary(notebook)["words"]
    assert abs(int(words.replace(",", "")) - counted) <= 100 and abs(int(minutes) - counted / 200) <= 1
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                 for output in cell.outputs)
    assert int(figures) == images
    (minutes,) = finding(r"a full run takes (\d+) minutes alone on a 2-core CPU")
    assert abs(int(minutes) - run_minutes(notebook)) <= 0.5


def full_run_minutes_in_the_benchmarks() -> list[float]:
    """Every full-mode run time (in minutes) that benchmarks/README.md's *Run times* table gives for the present
    models and recipe (its rows for earlier commits left out)."""
    text = (ROOT / "benchmarks" / "README.md").read_text()
    table = text[text.index("## Run times"):]
    table = table[:table.index("\n\n", table.index("|---"))]
    times = []
    rows = [line for line in table.splitlines() if line.startswith("|")]
    for row in rows[2:]:  # below the header and its rule
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if "earlier commits" not in cells[1]:
            times += [float(value) for value in re.findall(r"\d+\.\d(?!\d)", cells[2])]  # minutes, to a tenth
    return times


def test_its_range_of_run_times_is_the_benchmarks():
    times = full_run_minutes_in_the_benchmarks()
    for range_text in re.findall(r"(\d+) to (\d+) minutes", README):
        low, high = map(int, range_text)
        assert (low, high) == (round(min(times)), round(max(times))), (range_text, sorted(times))
    assert min(times) <= run_minutes(read_notebook()) <= max(times)

"""The notebook's prose reads as a tutorial: its length and how many numbers a paragraph carries (tests/prose.py
counts them), sections that open with why, prompts to try things with answers to unfold, plumbing folded away. What
the prose claims is held to the runs by tests/test_claims.py."""

import re

import pytest

from notebook_access import read_notebook
from prose import numbers_in, paragraphs, summary


@pytest.fixture(scope="module")
def notebook():
    return read_notebook()


def markdown(notebook) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_no_paragraph_carries_more_than_a_dozen_numbers(notebook):
    crowded = [text[:80] for text in paragraphs(notebook) if len(numbers_in(text)) > 12]
    assert crowded == [], "a paragraph with many numbers reads better as a table"


def test_most_paragraphs_carry_three_numbers_or_fewer_and_the_prose_is_at_most_4500_words(notebook):
    counts = summary(notebook)
    assert counts["paragraphs_with_at_most_3_numbers"] >= 0.65
    assert counts["numbers_per_paragraph_mean"] <= 3
    assert 3500 <= counts["words"] <= 4500


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


def try_its(notebook) -> list[tuple[str, str]]:
    """Every "Try it" prompt, and the answer folded under it (an HTML <details> block, which JupyterLab, Notebook 7,
    Colab and GitHub all fold)."""
    return re.findall(r"> \*\*Try it\.\*\* (.*?)\n\n<details><summary>Answer</summary>\n\n(.*?)\n\n</details>",
                      markdown(notebook), re.DOTALL)


def test_there_are_three_to_six_try_it_prompts_that_name_what_to_change_each_with_an_answer(notebook):
    assert len(try_its(notebook)) == markdown(notebook).count("**Try it.**")  # every prompt has its answer
    prompts = [prompt for prompt, _ in try_its(notebook)]
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


def section_texts(notebook) -> dict[str, str]:
    """Everything a reader sees in each numbered section: its markdown, tables included, and what its cells print."""
    found, current = {}, "0"
    for cell in notebook.cells:
        texts = [cell.source] if cell.cell_type == "markdown" else [
            "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/markdown", ""))
            for output in cell.get("outputs", [])]
        for text in texts:
            heading = re.search(r"^## (\d+)\. ", text, re.MULTILINE)
            if heading and cell.cell_type == "markdown":
                current = heading[1]
            found[current] = found.get(current, "") + "\n" + text
    return found


def test_every_number_of_the_summary_is_shown_in_the_section_it_names(notebook):
    (cell,) = [cell for cell in notebook.cells if cell.cell_type == "markdown" and cell.source.startswith("## Summary")]
    rows = re.findall(r"^\| (.+?) \| (\d+) \|$", cell.source, re.MULTILINE)
    assert len(rows) >= 8
    shown = section_texts(notebook)
    for finding, section in rows:
        seen = set(numbers_in(shown[section]))
        for number in numbers_in(finding):
            assert number in seen or number.rstrip("%") in seen, f"section {section} never shows {number} ({finding[:60]})"

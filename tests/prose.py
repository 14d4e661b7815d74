"""How the notebook's prose reads, in numbers: its words, and how many numbers each paragraph carries.

    python tests/prose.py                       # the committed notebook
    python tests/prose.py other.ipynb           # any other version of it

A paragraph is a block of a markdown cell between blank lines, without its table rows and headings; a number is a
run of digits, with its decimal or thousands separators and a percent sign (so "10.0 ± 2.0%" holds two). The
words are those of the paragraphs. tests/test_prose.py holds the notebook to the register these figures describe.
"""

import re
import statistics
import sys
from pathlib import Path

import nbformat

NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*%?")


def paragraphs(notebook: nbformat.NotebookNode) -> list[str]:
    """Every paragraph of the notebook's markdown cells, in order, as one line of text."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for block in re.split(r"\n\s*\n", cell.source):
            lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith(("|", "#"))]
            if lines:
                found.append(" ".join(line.strip() for line in lines))
    return found


def numbers_in(text: str) -> list[str]:
    return NUMBER.findall(text)


def quoted(text: str, pattern: str) -> tuple[str, ...]:
    """The groups of `pattern` where the prose `text` (its whitespace made single spaces) says it; a test fails if it
    no longer does."""
    found = re.search(pattern, " ".join(text.split()))
    assert found, f"the prose no longer says {pattern!r}"
    return tuple(group.rstrip(".") for group in found.groups())  # a number that ends a sentence


def summary(notebook: nbformat.NotebookNode) -> dict:
    texts = paragraphs(notebook)
    counts = [len(numbers_in(text)) for text in texts]
    return {"words": sum(len(text.split()) for text in texts), "paragraphs": len(texts),
            "numbers_per_paragraph_mean": statistics.fmean(counts), "numbers_per_paragraph_max": max(counts),
            "paragraphs_with_at_most_3_numbers": sum(count <= 3 for count in counts) / len(counts),
            "paragraphs_with_more_than_10_numbers": sum(count > 10 for count in counts)}


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "autoencoders.ipynb"
    for key, value in summary(nbformat.read(path, as_version=4)).items():
        print(f"{key}: {value:.2f}" if isinstance(value, float) else f"{key}: {value}")

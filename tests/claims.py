"""Claims, not sentences: how the tests find a claim in the notebook's prose, whatever words surround it.

A claim lives in one section and is recognised by the terms that make it (its subject, its comparative, its
qualifiers), all within one sentence; the numbers it quotes are read from that sentence, in order. A test then
holds those numbers and that comparative to a run. Rewording the sentence around its terms keeps the claim; a
changed number, a flipped comparative ("lower" for "higher") or a dropped qualifier ("in every seed") breaks it, and
`mutations` makes each of those changes so that tests/test_claims.py can show that its checks notice.
"""

import re
from dataclasses import dataclass, field

from prose import NUMBER

# A sentence ends at a full stop, question or exclamation mark, or colon followed by a space and a capital, a number,
# a quote or a bracket, never inside "e.g." or "i.e.".
SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<=[.?!:])\s+(?=[A-Z0-9(*`\"'>])")
OPPOSITES = {"lower": "higher", "higher": "lower", "more": "fewer", "fewer": "more", "less": "more", "better": "worse",
             "worse": "better", "above": "below", "below": "above", "most": "least", "least": "most", "best": "worst",
             "worst": "best", "beats": "loses to", "faster": "slower", "slower": "faster", "smaller": "larger",
             "larger": "smaller", "every": "no", "all": "none of the", "wins": "loses", "outside": "inside",
             "inside": "outside", "under": "over", "over": "under", "closer": "further", "clearly": "barely"}


@dataclass
class Claim:
    """A claim of the prose: in which section, the terms that make it (regular expressions, one sentence holds them
    all), and how many numbers it quotes. Its test lives in tests/test_claims.py under the same name."""
    name: str
    section: str  # "5", "8", "Summary", ...
    terms: list[str]
    numbers: int = 0
    opposites: dict[str, str] = field(default_factory=dict)  # besides OPPOSITES: a term and what would flip it


def sections(markdown_cells: list[str]) -> dict[str, str]:
    """The prose of each section, by its number (or its title for the unnumbered ones), as one line of text: its
    paragraphs without their tables, and a "Try it" answer without the HTML that folds it."""
    found, current = {}, "0"
    for source in markdown_cells:
        for line in source.splitlines():
            heading = re.match(r"^## (?:(\d+)\. )?(.*)", line)
            if heading:
                current = heading[1] or heading[2]
                continue
            if not line.lstrip().startswith("|") and not re.fullmatch(r"\s*(?:</?\w+>)+(?:Answer</summary>)?\s*", line):
                found[current] = found.get(current, "") + " " + re.sub(r"^> ?", "", line.strip())
    return {name: " ".join(text.split()) for name, text in found.items()}


def sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in SENTENCE_END.split(text) if sentence.strip()]


def find(claim: Claim, prose: dict[str, str]) -> str | None:
    """The first sentence of the claim's section that holds all its terms, or None."""
    for sentence in sentences(prose.get(claim.section, "")):
        if all(re.search(term, sentence, re.IGNORECASE) for term in claim.terms):
            return sentence
    return None


def quoted_numbers(sentence: str) -> list[str]:
    """The numbers a sentence quotes, in order, as written (section numbers such as "section 8" left out)."""
    without_references = re.sub(r"\bsections? \d+(?:(?: to |, | and |–)\d+)*", "", sentence)
    return [number.rstrip(".") for number in NUMBER.findall(without_references)]


def mutations(claim: Claim, sentence: str) -> dict[str, str]:
    """Changed versions of the claim's sentence, each of which must break the claim, by what was changed."""
    changed = {}
    for number in quoted_numbers(sentence)[: claim.numbers]:
        digits = re.sub(r"\d", lambda digit: str((int(digit[0]) + 3) % 10), number, count=1)
        changed[f"the number {number}"] = sentence.replace(number, digits, 1)
    for term in claim.terms:
        match = re.search(term, sentence, re.IGNORECASE)
        words = match[0].split()
        flips = {**OPPOSITES, **claim.opposites}
        flippable = [word for word in words if word.lower() in flips]
        if flippable:
            word = flippable[0]
            changed[f"'{word}' flipped"] = sentence.replace(match[0], match[0].replace(word, flips[word.lower()], 1), 1)
        changed[f"'{match[0]}' dropped"] = sentence.replace(match[0], "", 1)
    return changed


def reworded(sentence: str) -> str:
    """The same claim in other words around its terms: an opening that changes nothing it says."""
    return "As the run shows, " + sentence[0].lower() + sentence[1:] if sentence[:2] != "**" else "So: " + sentence

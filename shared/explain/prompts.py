"""The explainer's messages and how answers are read, after EleutherAI's Delphi (written here, not copied).

Examples are shown as their tokens joined, with the marked tokens between ``<<`` and ``>>`` (consecutive marked
tokens share one pair). The explainer marks the tokens whose activation exceeds ``threshold`` x the example's
maximum and lists them with their activation on a 0-9 scale (of the largest activation shown); it ends with a
line ``[EXPLANATION]: ...``. Detection shows plain examples, fuzzing highlighted ones; both ask for a Python list of
0/1, one per example, and an answer without exactly that list counts as failed (Delphi's rule).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.explain.client import Message

L, R = "<<", ">>"


@dataclass(frozen=True)
class Example:
    """A context window of a feature: its tokens and the feature's activation on each."""

    tokens: list[str]
    activations: list[float]

    @property
    def max_activation(self) -> float:
        return max(self.activations, default=0.0)

    def above(self, threshold: float) -> list[int]:
        """Positions whose activation is at least ``threshold`` x the example's maximum (and positive)."""
        top = self.max_activation
        return [i for i, a in enumerate(self.activations) if a > 0 and a >= threshold * top]


def highlight(tokens: Sequence[str], marked: Callable[[int], bool]) -> str:
    """The tokens joined, every run of marked tokens wrapped in ``<<`` ``>>``."""
    out: list[str] = []
    inside = False
    for i, tok in enumerate(tokens):
        m = marked(i)
        if m and not inside:
            out.append(L)
        elif not m and inside:
            out.append(R)
        inside = m
        out.append(tok)
    if inside:
        out.append(R)
    return "".join(out)


# --------------------------------------------------------------------------------------------------------------
# Explanation
# --------------------------------------------------------------------------------------------------------------

EXPLAIN_SYSTEM = """You study patterns in language. You get text examples in which some tokens are marked like \
<<this>>; a run of marked tokens shares one pair of markers <<like this>>. After each example its marked tokens are \
listed with how strongly they fire, from 0 to 9.

Find what the marked tokens have in common, with the words around them. Write one short, specific description of \
that pattern. Do not mention the markers. Do not list alternatives.
The last line of your answer must be: [EXPLANATION]: <your description>"""

EXPLAIN_SHOT = (
    "Example 1: and he was <<over the moon>> to find\nActivations: (over, 5), ( the, 6), ( moon, 9)\n"
    "Example 2: we'll be laughing <<till the cows come home>>! Pro\n"
    "Activations: (till, 5), ( the, 5), ( cows, 8), ( come, 8), ( home, 9)\n"
    "Example 3: thought Scotland was boring, but really there's more <<than meets the eye>>! I'd\n"
    "Activations: ( than, 5), ( meets, 7), ( the, 6), ( eye, 8)"
)
EXPLAIN_SHOT_ANSWER = "[EXPLANATION]: Common idioms in text that convey a positive feeling."


def explain_messages(examples: Sequence[Example], threshold: float) -> list[Message]:
    """The explainer's chat: instructions, one worked example, then ``examples`` marked with their activations."""
    scale = max((e.max_activation for e in examples), default=0.0) or 1.0
    blocks = []
    for n, ex in enumerate(examples, 1):
        hot = set(ex.above(threshold))
        pairs = ", ".join(
            f"({ex.tokens[i]}, {min(9, round(9 * ex.activations[i] / scale))})" for i in sorted(hot)
        )
        blocks.append(f"Example {n}: {highlight(ex.tokens, hot.__contains__)}\nActivations: {pairs}")
    return [
        {"role": "system", "content": EXPLAIN_SYSTEM},
        {"role": "user", "content": EXPLAIN_SHOT},
        {"role": "assistant", "content": EXPLAIN_SHOT_ANSWER},
        {"role": "user", "content": "\n".join(blocks)},
    ]


_EXPLANATION = re.compile(r"\[EXPLANATION\]\s*:?\s*(.+)", re.IGNORECASE)


def parse_explanation(answer: str, limit: int = 500) -> str | None:
    """The text after the last ``[EXPLANATION]:``; else the answer's last non-empty line (small models often drop
    the tag); None when the answer is empty. Whitespace is collapsed and the text cut to ``limit`` characters."""
    found = _EXPLANATION.findall(answer)
    lines = [ln for ln in answer.splitlines() if ln.strip()]
    text = found[-1] if found else (lines[-1] if lines else "")
    text = " ".join(text.replace(L, "").replace(R, "").split()).strip(" \"'")
    return text[:limit] or None


# --------------------------------------------------------------------------------------------------------------
# Scoring: detection and fuzzing
# --------------------------------------------------------------------------------------------------------------

DETECTION_SYSTEM = """You are a careful linguistics researcher. You get a description of a feature of text, such as \
"male pronouns" or "text with negative sentiment", then numbered text examples. Decide for each example whether \
the feature is present in it.

Answer with a Python list with one entry per example, in order: 1 if the example has the feature, 0 if not. \
Return only the list."""

DETECTION_SHOT = (
    "Feature: Words for positions in American football, especially the tight end.\n\nExamples:\n"
    "Example 0: Patriots tight end Rob Gronkowski had his boss\n"
    "Example 1: names of months used in The Lord of the Rings\n"
    "Example 2: LSU defensive end Isaiah Washington speaks to the"
)
DETECTION_SHOT_ANSWER = "[1, 0, 1]"

FUZZING_SYSTEM = """You are a careful linguistics researcher. You get a description of a feature of text, then \
numbered text examples in which some tokens are marked like <<this>>. Some examples are marked correctly, some \
are not. An example is correct only if every marked token shows the feature.

Answer with a Python list with one entry per example, in order: 1 if its marking is correct, 0 if not. Return \
only the list."""

FUZZING_SHOT = (
    'Feature: The word "guys" in the phrase "you guys".\n\nExamples:\n'
    "Example 0: if you are comfortable with it. You<< guys>> support me in many other ways\n"
    "Example 1: but I assure you<< women>> in Kentucky aren't laughing as they struggle\n"
    "Example 2: I hope you<< guys>> love her, and please be nice"
)
FUZZING_SHOT_ANSWER = "[1, 0, 1]"


def _classify(system: str, shot: str, answer: str, explanation: str, texts: Sequence[str]) -> list[Message]:
    listed = "\n".join(f"Example {i}: {t}" for i, t in enumerate(texts))
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": shot},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": f"Feature: {explanation}\n\nExamples:\n{listed}"},
    ]


def detection_messages(explanation: str, texts: Sequence[str]) -> list[Message]:
    """Ask which of the plain ``texts`` show the feature ``explanation`` describes."""
    return _classify(DETECTION_SYSTEM, DETECTION_SHOT, DETECTION_SHOT_ANSWER, explanation, texts)


def fuzzing_messages(explanation: str, texts: Sequence[str]) -> list[Message]:
    """Ask which of the highlighted ``texts`` are highlighted correctly for ``explanation``."""
    return _classify(FUZZING_SYSTEM, FUZZING_SHOT, FUZZING_SHOT_ANSWER, explanation, texts)


_LIST = re.compile(r"\[[^\[\]]*\]")


def parse_predictions(answer: str, n: int) -> list[bool] | None:
    """The first ``[...]`` of the answer read as ``n`` zeros and ones; None when there is none, it is not JSON, it
    holds anything but 0/1 (or true/false), or its length is not ``n`` (every example of the prompt then fails)."""
    match = _LIST.search(answer)
    if match is None:
        return None
    try:
        values = json.loads(match.group(0).replace("True", "true").replace("False", "false"))
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != n:
        return None
    if not all(v in (0, 1) and not isinstance(v, float) for v in values):
        return None
    return [bool(v) for v in values]

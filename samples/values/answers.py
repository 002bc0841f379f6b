"""The answers of a qualitative assay ("Positive", "Negative", "Not detected"...) and how a
sent or typed text is read as one of them.

An assay's answers are kept as a list of ``{"text": ..., "abnormal": ...}`` (``Assay.answers``).
A text matches an answer whatever its case, its surrounding or repeated blanks and its Unicode
form (NFC): " not  DETECTED " is the answer "Not detected", stored in the answer's own spelling.
An answer is at most ``ANSWER_LENGTH`` characters of printable text, and no two answers of an
assay read the same. Nothing here writes; each check returns what it accepted or raises
``LabError`` naming the field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from samples.errors import LabError

ANSWER_LENGTH = 64  # Result.text holds an answer: the same length
ABNORMAL_FLAG = "A"  # HL7 table 0078: abnormal (for a result that is not a number)
SHOWN = 40  # characters of a refused text quoted back in the refusal


@dataclass(frozen=True)
class Answer:
    text: str
    abnormal: bool


def answer_key(text: str) -> str:
    """What two spellings of one answer have in common: NFC, blanks collapsed, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def answers_of(assay: Any) -> list[Answer]:
    """The answers an assay takes, in its order (none for a quantitative assay)."""
    return [Answer(a["text"], bool(a["abnormal"])) for a in assay.answers or []]


def keys_of(assay: Any) -> set[str]:
    return {answer_key(a.text) for a in answers_of(assay)}


def answers_named(assay: Any) -> str:
    """The accepted answers, for a message: "Positive, Negative or Indeterminate"."""
    texts = [a.text for a in answers_of(assay)]
    if len(texts) < 2:
        return "".join(texts) or "(none set up)"
    return f"{', '.join(texts[:-1])} or {texts[-1]}"


def quoted(text: str) -> str:
    """A refused text as a message quotes it (as ``samples.values.bounds`` does a number): in
    quotes, a control character escaped, cut short when long."""
    return repr(text if len(text) <= SHOWN else text[:SHOWN] + "…")


def answer_match(assay: Any, text: str, *, field: str = "value") -> Answer:
    """The assay's answer the text names, or the refusal naming the accepted answers."""
    key = answer_key(text)
    for answer in answers_of(assay):
        if answer_key(answer.text) == key:
            return answer
    raise LabError(
        f"{quoted(text.strip())} is not an answer of {assay.code}: it takes "
        f"{answers_named(assay)}.",
        field=field,
    )


def answers_checked(answers: Iterable[Answer], *, field: str = "answers") -> list[dict[str, Any]]:
    """A qualitative assay's answers as ``Assay.answers`` keeps them (blanks trimmed), or the
    refusal: at least two answers, each printable and at most ``ANSWER_LENGTH`` characters,
    no two reading the same (``answer_key``)."""
    kept: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for answer in answers:
        text = " ".join(unicodedata.normalize("NFC", answer.text).split())
        if not text:
            continue
        if not text.isprintable():
            raise LabError(f"The answer {quoted(text)} holds a control character.", field=field)
        if len(text) > ANSWER_LENGTH:
            raise LabError(
                f"The answer {quoted(text)} is longer than {ANSWER_LENGTH} characters.",
                field=field,
            )
        key = answer_key(text)
        if key in seen:
            raise LabError(
                f"The answers {quoted(seen[key])} and {quoted(text)} read the same.", field=field
            )
        seen[key] = text
        kept.append({"text": text, "abnormal": answer.abnormal})
    if len(kept) < 2:
        raise LabError("A qualitative assay takes at least two answers.", field=field)
    return kept

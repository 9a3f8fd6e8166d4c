"""An `indicated ask` answer in Markdown: the question, the cited sentences, references, related questions."""

from __future__ import annotations

from indicated.models import Answer
from indicated.render.parts import cites, reference_line

__all__ = ["answer_markdown"]


def answer_markdown(answer: Answer) -> str:
    out = [f"# {answer.question}", ""]
    if answer.answered:
        out += [f"- {s.text} {cites(s.citations)}" for s in answer.sentences]
        out += ["", "## References", "", *(reference_line(r) for r in answer.references)]
    else:
        out += [f"**Not in the library.** {answer.note}"]
    if answer.related_questions:
        out += ["", "## Related questions", "", *(f"- {q}" for q in answer.related_questions)]
    return "\n".join(out) + "\n"

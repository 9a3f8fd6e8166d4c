"""medspaCy's target matcher and ConText with the same results in time linear in the note.

medspaCy 1.3 does two things whose cost grows with the square of a note (security issue 17, finding 3:
a 100 KB note took 10 s against 5 ms for half a kilobyte):

- its ``TargetMatcher`` adds each match with ``doc.ents += (span,)``, and spaCy rewrites every token's
  entity tag on each assignment: matches x tokens;
- its ``ConText`` pairs every modifier with every other (``update_scopes``) and with every target
  (``apply_modifiers``): modifiers x (modifiers + targets).

:class:`TargetMatcher` sets ``doc.ents`` once, keeping medspaCy's rule that a match overlapping an
entity already there is skipped. :class:`ConText` pairs a modifier only with the modifiers and targets
of its own stretch of sentences; see :func:`blocks` for why every other pair is provably a no-op, so
the graph, the scopes and every target's modifiers are exactly medspaCy's.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

from medspacy.context import ConText as _ConText
from medspacy.context import ConTextGraph, ConTextModifier
from medspacy.target_matcher import TargetMatcher as _TargetMatcher

__all__ = ["ConText", "TargetMatcher", "blocks"]


class TargetMatcher(_TargetMatcher):
    """medspaCy's target matcher, its matches set as ``doc.ents`` in one assignment."""

    def __init__(self, nlp, name: str = "indicated_target_matcher") -> None:
        super().__init__(nlp, name=name, result_type=None)  # the parent returns the spans; we set them

    def __call__(self, doc):
        spans = super().__call__(doc)
        if not spans:
            return doc
        ents = list(doc.ents)
        taken = bytearray(len(doc))
        for ent in ents:
            taken[ent.start : ent.end] = b"\x01" * len(ent)
        for span in spans:
            if any(taken[span.start : span.end]):
                # medspaCy's message and behaviour: an entity already there supersedes the match
                warnings.warn(
                    f'The result ""{span}"" conflicts with a pre-existing entity in doc.ents. This result has been '
                    f"skipped.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            taken[span.start : span.end] = b"\x01" * len(span)
            ents.append(span)
        doc.ents = ents
        return doc


class ConText(_ConText):
    """medspaCy's ConText pairing modifiers and targets within their stretch of sentences only.

    Configurations this does not cover (a global ``max_scope`` window, which crosses sentences;
    pruning modifiers on targets; targets from a span group or an extension) run medspaCy's own
    algorithm unchanged.
    """

    def __call__(self, doc, targets: str | None = None):
        if targets or self.max_scope or self.prune_on_target_overlap or self.input_span_type != "ents":
            return super().__call__(doc, targets)
        matcher = self._ConText__matcher  # medspaCy keeps its matcher private; this is its name
        graph = ConTextGraph(prune_on_modifier_overlap=False)
        graph.targets = doc.ents
        graph.modifiers = [
            ConTextModifier(matcher.rule_map[self.nlp.vocab[match_id].text], start, end, doc, max_scope=None)
            for match_id, start, end in matcher(doc)
        ]
        block = blocks(doc, graph.modifiers)
        mine: defaultdict[int, list[int]] = defaultdict(list)  # block -> its modifiers, in order
        for i, modifier in enumerate(graph.modifiers):
            mine[block[modifier.modifier_span[0]]].append(i)
        # ConTextGraph.update_scopes, pair by pair in the same order, within each block
        for members in mine.values():
            for n, i in enumerate(members):
                first = graph.modifiers[i]
                for j in members[n + 1 :]:
                    second = graph.modifiers[j]
                    first.limit_scope(second)
                    second.limit_scope(first)
        # ConTextGraph.apply_modifiers: each target against the modifiers of the blocks of its first and
        # last token, in the modifiers' order
        for target in graph.targets:
            head, tail = block[target.start], block[target.end - 1]
            near = mine[head] if head == tail else sorted({*mine[head], *mine[tail]})
            for i in near:
                if graph.modifiers[i].modifies(target):
                    graph.modifiers[i].modify(target)
        edges = []
        for modifier in graph.modifiers:
            modifier.reduce_targets()
            edges += [(target, modifier) for target in modifier._targets]
        graph.edges = edges
        for target, modifier in edges:
            target._.modifiers += (modifier,)
        if self.context_attributes_mapping:
            self.set_context_attributes(edges)
        doc._.context_graph = graph
        return doc


def blocks(doc, modifiers: list[ConTextModifier]) -> list[int]:
    """The block of each token: runs of whole sentences, joined where a modifier crosses a sentence
    start, so that every modifier lies inside one block.

    Why pairs across blocks do nothing (no global ``max_scope``): a modifier's scope starts inside the
    sentence of its first token and ends no further than that sentence's end, so both ends lie in its
    block; a scope only narrows (forward: its end becomes ``min(end, other.start)`` for a later
    ``other``, whose start lies after this modifier's own; backward: its start becomes
    ``max(start, other.end)`` for an earlier one), so it stays in the block. A modifier of another block
    then never narrows it: a later block's modifier starts at or after this block's end, beyond the scope's end;
    an earlier block's ends at or before this block's start, before the scope's start. And medspaCy's
    ``tuple_overlaps(scope, target)`` holds only when the target's first or last token lies inside the
    scope, so a target is modified only by modifiers of the blocks of its first and last tokens.
    """
    starts = bytearray(len(doc))
    for sent in doc.sents:
        starts[sent.start] = 1
    for modifier in modifiers:
        start, end = modifier.modifier_span
        starts[start + 1 : end] = bytes(max(0, end - start - 1))
    out, n = [], -1
    for flag in starts:
        n += flag
        out.append(n)
    return out

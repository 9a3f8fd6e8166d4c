"""Walk a policy's criteria tree over a Case, keeping every node's status and evidence."""

from __future__ import annotations

from indicated.evaluate import logic
from indicated.evaluate.predicates import World, check
from indicated.kb.schema import Node
from indicated.models import Case, CriterionResult, RequestedService, Status


def evaluate_tree(
    node: Node,
    case: Case,
    service: RequestedService | None,
    world: World,
    *,
    depth: int = 0,
    parent: str | None = None,
) -> list[CriterionResult]:
    """Pre-order list of results; the first one is the root's."""
    if node.check is not None:
        outcome = check(node.check, case, service, world)
        return [_result(node, outcome.status, outcome.evidence, depth, parent, outcome.assumed)]
    children: list[list[CriterionResult]] = [
        evaluate_tree(c, case, service, world, depth=depth + 1, parent=node.id) for c in node.children
    ]
    statuses = [c[0].status for c in children]
    if node.all is not None:
        status = logic.all_of(statuses)
    elif node.any is not None:
        status = logic.any_of(statuses)
    elif node.at_least is not None:
        status = logic.at_least(node.at_least.n, statuses)
    else:
        status = logic.negate(statuses[0])
    deciding = statuses[0] if node.not_ is not None else status
    decided_by = [c[0] for c in children if c[0].status == deciding]
    evidence = {(s.start, s.end): s for c in decided_by for s in c.evidence}
    # silence taken as absence decided this node only if every child that decided it was silent
    assumed = bool(decided_by) and all(c.assumed for c in decided_by)
    root = _result(node, status, list(evidence.values()), depth, parent, assumed)
    return [root, *(r for c in children for r in c)]


def _result(
    node: Node, status: Status, evidence, depth: int, parent: str | None, assumed: bool = False
) -> CriterionResult:
    return CriterionResult(
        id=node.id,
        status=status,
        statement=node.statement,
        plain=node.plain,
        to_document=node.to_document,
        depth=depth,
        parent=parent,
        logic=node.logic,
        assumed=assumed,
        evidence=sorted(evidence, key=lambda s: s.start),
        sources=list(node.cite),
    )

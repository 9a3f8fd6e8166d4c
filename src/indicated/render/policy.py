"""A policy as a readable tree for `indicated policies show`: the reviewer's view of the criteria.

It renders the knowledge it is handed and loads none: the knowledge types serve annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

if TYPE_CHECKING:
    from indicated.kb.loader import Knowledge
    from indicated.kb.schema import Node, Pitfall, Policy

__all__ = ["policy_tree"]

_LOGIC = {"all": "ALL of", "any": "ANY of", "not": "NOT", "check": ""}


def _cite(kb: Knowledge, ids: list[str]) -> str:
    return "; ".join(f"{kb.sources[i].issuer}, {kb.sources[i].title} ({kb.sources[i].year or 'n.d.'})" for i in ids)


def _label(node: Node, kb: Knowledge) -> Text:
    logic = f"at least {node.at_least.n} of" if node.at_least else _LOGIC[node.logic]
    text = Text.from_markup(
        f"[bold]{escape(node.id)}[/bold] {escape(logic)} {escape(node.statement)}".replace("  ", " ")
    )
    if node.check is not None:
        text.append(f"\n  check: {node.check.model_dump(exclude_none=True, exclude_defaults=True)}", style="cyan")
    if node.cite:
        text.append(f"\n  sources: {_cite(kb, node.cite)}", style="dim")
    return text


def _grow(tree: Tree, node: Node, kb: Knowledge) -> None:
    branch = tree.add(_label(node, kb))
    for child in node.children:
        _grow(branch, child, kb)


def _when(pitfall: Pitfall) -> str:
    """The cases a pitfall is shown on, as the policy states them ("" when it is shown on every case)."""
    w = pitfall.when
    if w is None:
        return ""
    parts = [f"{key} {', '.join(items)}" for key, items in w.model_dump().items() if items]
    return f" (shown when: {'; '.join(parts)})"


def policy_tree(policy: Policy, kb: Knowledge) -> Group:
    """Header, services, the criteria tree with checks and sources, then pitfalls."""
    services = ", ".join(
        f"{s.code} (add-on to {'/'.join(s.add_on_to)})" if s.add_on_to else s.code for s in policy.services
    )
    header = Text.from_markup(
        f"[bold]{escape(policy.title)}[/bold]\n{policy.id} {policy.version}, set {policy.policy_set}, {policy.kind}\n"
        f"services: {services or '-'}\n\n{escape(policy.follows)}\n"
    )
    tree = Tree("[bold]criteria[/bold]")
    _grow(tree, policy.criteria, kb)
    pitfalls = (
        Text("\npitfalls:\n" + "\n".join(f"- {p.text}{_when(p)}" for p in policy.pitfalls))
        if policy.pitfalls
        else Text("")
    )
    return Group(header, tree, pitfalls)

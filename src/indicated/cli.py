"""The `indicated` command. Errors become one line on stderr and an exit code, never a traceback.

Exit codes: 0 success, 1 unexpected internal error, 2 bad input or usage, 3 invalid knowledge.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from indicated.errors import IndicatedError, InputError, KnowledgeError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Is this procedure medically indicated, and why?")
policies_app = typer.Typer(no_args_is_help=True, help="Inspect the policy library.")
app.add_typer(policies_app, name="policies")

EXIT_INPUT, EXIT_KNOWLEDGE, EXIT_INTERNAL = 2, 3, 1


def _fail(message: str, code: int) -> None:
    typer.echo(f"indicated: error: {message}", err=True)
    raise typer.Exit(code)


def _read(case: str | None, text: str | None) -> str:
    from indicated.inputs import decode

    if text is not None and case is not None:
        raise InputError("give either a CASE file (or - for stdin) or --text, not both")
    if text is not None:
        return text
    if case is None:
        raise InputError('no case given: pass a file, - for stdin, or --text "..."')
    if case == "-":
        return decode(sys.stdin.buffer.read(), source="stdin")
    path = Path(case)
    if path.is_dir():
        raise InputError(f"{case}: is a directory, expected a case file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{case}: no such file") from exc
    except OSError as exc:
        raise InputError(f"{case}: cannot read: {exc.strerror}") from exc
    return decode(raw, source=case)


@app.command()
def assess(
    case: Annotated[str | None, typer.Argument(help="Case file (text or JSON case), or - for stdin.")] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="The case as a string.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or markdown.")] = "markdown",
    policy_set: Annotated[str, typer.Option("--policy-set", "-p", help="Which policy set to apply.")] = "clinical",
) -> None:
    """Assess one case and print the determination article."""
    from indicated.render import FORMATS

    try:
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        from indicated.inputs import parse_case
        from indicated.pipeline import assess as run
        from indicated.render import render

        source = "--text" if text is not None else ("stdin" if case == "-" else str(case))
        parsed = parse_case(_read(case, text), source=source)
        typer.echo(render(run(parsed, policy_set=policy_set), fmt))
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    except KnowledgeError as exc:
        _fail(f"invalid knowledge: {exc}", EXIT_KNOWLEDGE)
    except IndicatedError as exc:  # pragma: no cover - every subclass is handled above
        _fail(str(exc), EXIT_INTERNAL)


@policies_app.command("list")
def policies_list() -> None:
    """List the policies of every set with their versions and services."""
    from rich.console import Console
    from rich.table import Table

    from indicated.kb.loader import bundled

    try:
        kb = bundled()
    except KnowledgeError as exc:
        _fail(f"invalid knowledge: {exc}", EXIT_KNOWLEDGE)
    table = Table("set", "id", "version", "kind", "services", "title")
    for p in sorted(kb.policies.values(), key=lambda p: (p.policy_set, p.id)):
        table.add_row(p.policy_set, p.id, p.version, p.kind, " ".join(s.code for s in p.services), p.title)
    Console().print(table)


def main() -> None:
    """Entry point: run the app and turn anything unexpected into one line (exit 1)."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:
        typer.echo(f"indicated: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()

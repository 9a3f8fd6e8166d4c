"""The `indicated` command. Errors become one line on stderr and an exit code, never a traceback.

Exit codes: 0 success, 1 unexpected internal error, 2 bad input or usage, 3 invalid knowledge.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from indicated.errors import IndicatedError, InputError, KnowledgeError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Is this procedure medically indicated, and why?")
policies_app = typer.Typer(no_args_is_help=True, help="Inspect the policy library.")
app.add_typer(policies_app, name="policies")

EXIT_INPUT, EXIT_KNOWLEDGE, EXIT_INTERNAL = 2, 3, 1


def _set_ids() -> list[str]:
    """The bundled policy sets for the help text, read from their small file without loading the rest
    of the knowledge (help must stay instant); an unreadable file leaves the help without the list."""
    from importlib import resources

    import yaml

    try:
        data = yaml.safe_load((resources.files("indicated") / "knowledge" / "policy-sets.yaml").read_text())
        return [s["id"] for s in data["sets"]]
    except (OSError, KeyError, TypeError, yaml.YAMLError):  # pragma: no cover - the package ships the file
        return []


SET_HELP = f"Which policy set to apply: {', '.join(_set_ids())} (see `indicated policies list`)."


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"indicated {version('indicated')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Is this procedure medically indicated, and why?"""


def _fail(message: str, code: int) -> None:
    typer.echo(f"indicated: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the engine's errors into one line on stderr and the documented exit code."""
    try:
        yield
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT)
    except KnowledgeError as exc:
        _fail(f"invalid knowledge: {exc}", EXIT_KNOWLEDGE)
    except IndicatedError as exc:  # pragma: no cover - every subclass is handled above
        _fail(str(exc), EXIT_INTERNAL)


def _check_format(fmt: str, choices) -> None:
    if fmt not in choices:
        raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(choices)}")


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
    if path.suffix.lower() in (".yaml", ".yml"):
        return _labelled_text(decode(raw, source=case), case)
    return decode(raw, source=case)


def _labelled_text(raw: str, source: str) -> str:
    """A labelled case file (``text`` with ``expected`` and ``basis``, as in cases/): only its text is the
    case. Its labels must never be read as part of the record, or the answer would read its own key."""
    import yaml

    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: malformed YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise InputError(f"{source}: a YAML case file needs a `text` field holding the case")
    return data["text"]


CaseArg = Annotated[
    str | None,
    typer.Argument(
        help="Case file (text, a JSON case, a FHIR R4 Bundle, or a labelled YAML case whose `text` is read), or - for stdin."
    ),
]
TextOpt = Annotated[str | None, typer.Option("--text", "-t", help="The case as a string.")]


def _case(case: str | None, text: str | None):
    from indicated.inputs import parse_case

    source = "--text" if text is not None else ("stdin" if case == "-" else str(case))
    return parse_case(_read(case, text), source=source)


@app.command()
def assess(
    case: CaseArg = None,
    text: TextOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown, html or json.")] = "markdown",
    audience: Annotated[
        str, typer.Option("--audience", "-a", help="clinician, reviewer (criteria table and audit first) or patient.")
    ] = "clinician",
    policy_set: Annotated[str, typer.Option("--policy-set", "-p", help=SET_HELP)] = "clinical",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the article to this file.")] = None,
    add: Annotated[
        list[str] | None,
        typer.Option(
            "--add",
            metavar="<str>",
            help="A follow-up (repeatable): facts appended to the case, which is assessed again; the article "
            'opens with what changed. A question ("is 6 weeks enough?") is answered from the evidence library.',
        ),
    ] = None,
) -> None:
    """Assess one case and print (or write) the determination article."""
    from indicated.render import AUDIENCES, FORMATS

    with _errors():
        _check_format(fmt, FORMATS)
        if audience not in AUDIENCES:
            raise InputError(f"unknown audience {audience!r}; choose one of: {', '.join(AUDIENCES)}")
        from indicated.pipeline import assess as run
        from indicated.render import render

        if add is None:
            _emit(render(run(_case(case, text), policy_set=policy_set), fmt, audience=audience), output)
            return
        _emit(_follow_up(case, text, add, fmt=fmt, audience=audience, policy_set=policy_set), output)


def _follow_up(case: str | None, text: str | None, add: list[str], *, fmt: str, audience: str, policy_set: str) -> str:
    """The case assessed before and after the facts of ``add`` are appended to it; topic questions in
    ``add`` answered by ``ask`` about the case's procedure. The article is the one after, opening with
    what changed."""
    from indicated.engine import Engine
    from indicated.inputs import parse_case
    from indicated.pipeline import assess as run
    from indicated.render import followup

    facts, questions = followup.split(add)
    if not facts and not questions:
        raise InputError("--add: the follow-up is empty")
    if sum(map(len, add)) > followup.MAX_CHARS:
        raise InputError(f"--add: the follow-up has more than {followup.MAX_CHARS:,} characters")
    source = "--text" if text is not None else ("stdin" if case == "-" else str(case))
    raw = _read(case, text)
    before = run(parse_case(raw, source=source), policy_set=policy_set)
    after = run(parse_case(_with_facts(raw, facts, source), source=source), policy_set=policy_set) if facts else before
    answers = [
        Engine.bundled().ask(followup.question_in_context(q, before)).model_copy(update={"question": q})
        for q in questions
    ]
    after = after.model_copy(update={"changes": followup.diff(before, after, facts_added=bool(facts), answers=answers)})
    return followup.render(after, fmt, audience=audience)


def _with_facts(raw: str, facts: list[str], source: str) -> str:
    """The case read from ``raw`` with the facts added: a note gets them as a last paragraph, a JSON case
    in its ``text``, a FHIR Bundle as one more note (a DocumentReference) after the others."""
    import base64
    import json
    import uuid

    from indicated.inputs import load_json, looks_like_json
    from indicated.render.followup import paragraph, with_paragraph

    if not looks_like_json(raw):
        return with_paragraph(raw, facts)
    data = load_json(raw, source=source)
    if not isinstance(data, dict):
        raise InputError(f"{source}: a JSON case must be an object")
    if data.get("resourceType") == "Bundle":
        words = paragraph(facts)
        note = {
            "resourceType": "DocumentReference",
            "id": f"follow-up-{uuid.uuid5(uuid.NAMESPACE_URL, words).hex[:12]}",
            "status": "current",
            "description": "Follow-up",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(words.encode()).decode(),
                    }
                }
            ],
        }
        entry = {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, words)}", "resource": note}
        return json.dumps({**data, "entry": [*(data.get("entry") or []), entry]})
    if "findings" in data:
        raise InputError(
            f"{source}: this JSON case lists its findings, which take the place of what its text says, so "
            "facts added as words would change nothing: add them to its findings instead"
        )
    note = data.get("text", "")
    if not isinstance(note, str):
        raise InputError(f"{source}: 'text' must be a string")
    return json.dumps({**data, "text": with_paragraph(note, facts)})


@app.command()
def letter(
    case: CaseArg = None,
    text: TextOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown or html.")] = "markdown",
    policy_set: Annotated[str, typer.Option("--policy-set", "-p", help=SET_HELP)] = "clinical",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the letter to this file.")] = None,
) -> None:
    """Draft a letter of medical necessity for the surgeon's office to review, sign and send: each met
    criterion with the record's words and its source, what is still to be documented, and no argument
    for a criterion the record fails (a notice instead when nothing can be supported)."""
    with _errors():
        _check_format(fmt, ("markdown", "html"))
        from indicated.pipeline import assess as run
        from indicated.render.letter import to_letter

        _emit(to_letter(run(_case(case, text), policy_set=policy_set), fmt), output)


@app.command()
def ask(
    question: Annotated[
        str, typer.Argument(help='A topic question, e.g. "When is surgery indicated after failed physical therapy?"')
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown or json.")] = "markdown",
) -> None:
    """Answer a topic question from the evidence library: quoted statements, every one cited."""
    with _errors():
        _check_format(fmt, ("markdown", "json"))
        from indicated.engine import Engine

        answer = Engine.bundled().ask(question)
        if fmt == "json":
            typer.echo(answer.model_dump_json(indent=2))
        else:
            from indicated.render.answer import answer_markdown

            typer.echo(answer_markdown(answer), nl=False)


@app.command()
def batch(
    src: Annotated[
        Path, typer.Argument(help='JSONL input: one case per line, {"id": ..., "text": ...} or a JSON case.')
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL output, one row per input line.")],
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes (or Ray actors).")] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="Skip ids already in the output and append.")] = False,
    engine: Annotated[str, typer.Option("--engine", "-e", help="local (processes) or ray (Ray Data).")] = "local",
    policy_set: Annotated[str, typer.Option("--policy-set", "-p", help=SET_HELP)] = "clinical",
) -> None:
    """Assess a JSONL file of cases; a bad line becomes an error row, never a stopped run."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from indicated.batch import run_batch

    with _errors():
        if resume and not output.exists():
            resume = False
        with Progress(
            TextColumn("[bold]assessing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        ) as bar:
            task = bar.add_task("batch", total=None)
            summary = run_batch(
                src,
                output,
                workers=workers,
                resume=resume,
                engine=engine,
                policy_set=policy_set,
                progress=lambda n: bar.advance(task, n),
                on_total=lambda n: bar.update(task, total=n),
            )
    typer.echo(
        f"{summary.written} rows written to {output} ({summary.errors} errors, {summary.skipped} skipped as done)",
        err=True,
    )


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror}") from exc
    typer.echo(f"wrote {output}", err=True)


@app.command()
def compare(
    case: CaseArg = None,
    text: TextOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Assess one case under every policy set and show the answers side by side."""
    with _errors():
        _check_format(fmt, ("table", "json"))
        from indicated.compare import compare as run

        result = run(_case(case, text))
        if fmt == "json":
            typer.echo(result.model_dump_json(indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table("service", *result.sets, "differs", title="Determinations by policy set", show_lines=True)
        rows = [*result.services, *([result.setting] if result.setting else [])]
        for row in rows:
            cells = [
                f"{o.determination.value if o.determination else '-'}\n[dim]{o.policy or 'no policy'}[/dim]"
                + "".join(f"\n- {d}" for d in o.deciding)
                for o in row.outcomes
            ]
            table.add_row(f"{row.code}\n[dim]{row.description}[/dim]", *cells, "yes" if row.differs else "no")
        table.add_row("[bold]overall[/bold]", *(result.overall[s].value for s in result.sets), "")
        Console().print(table)


@policies_app.command("list")
def policies_list() -> None:
    """List the policy sets and the policies of every set with their versions and services."""
    from rich.console import Console
    from rich.table import Table

    from indicated.engine import Engine

    with _errors():
        kb = Engine.bundled().knowledge
    console = Console()
    sets = Table("set", "falls back to", "title", title="Policy sets")
    for ps in kb.sets.values():
        sets.add_row(ps.id, ps.falls_back_to or "-", ps.title)
    console.print(sets)
    table = Table("set", "id", "version", "kind", "services", "title", title="Policies")
    for column in table.columns[:3]:
        column.no_wrap = True  # an id is copied into `policies show`: never cut or folded
    for p in sorted(kb.policies.values(), key=lambda p: (p.policy_set, p.id)):
        table.add_row(p.policy_set, p.id, p.version, p.kind, " ".join(s.code for s in p.services), p.title)
    console.print(table)


@policies_app.command("show")
def policies_show(
    policy_id: Annotated[str, typer.Argument(help="Policy id (see `indicated policies list`).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show one policy: what it follows, its services, its criteria tree with citations, its pitfalls."""
    from indicated.engine import Engine

    with _errors():
        kb = Engine.bundled().knowledge
        policy = kb.policies.get(policy_id)
        if policy is None:
            raise InputError(f"unknown policy {policy_id!r}; choose one of: {', '.join(sorted(kb.policies))}")
        _check_format(fmt, ("text", "json"))
    if fmt == "json":
        typer.echo(policy.model_dump_json(indent=2, by_alias=True, exclude_none=True))
        return
    from rich.console import Console

    from indicated.render.policy import policy_tree

    Console().print(policy_tree(policy, kb))


@policies_app.command("test")
def policies_test(
    policy_ids: Annotated[list[str] | None, typer.Argument(help="Policy ids; all policies when omitted.")] = None,
) -> None:
    """Run each policy's own case suite and report every case that does not hold (exit 1 if any)."""
    from rich.console import Console

    from indicated.suites import run_suites

    with _errors():
        results = run_suites(policy_ids or None)
    console = Console()
    failed = 0
    for r in results:
        mark = "[green]ok[/green]" if not r.failures else "[red]FAIL[/red]"
        console.print(f"{mark} {r.policy}: {r.passed}/{r.total} cases hold")
        for name, problem in r.failures:
            console.print(f"    [red]x[/red] {name}: {problem}")
        failed += len(r.failures)
    if failed:
        raise typer.Exit(1)


@app.command("eval")
def evaluate(
    folders: Annotated[list[Path], typer.Argument(help="Folders of labelled cases or annotated notes (YAML).")],
    misses: Annotated[bool, typer.Option("--misses", help="List every check the engine gets wrong.")] = False,
) -> None:
    """Score the engine on labelled cases (determinations, review, codes) or annotated notes (findings
    with polarity, procedures, regions): a folder of notes is one whose files carry `annotations`."""
    import yaml
    from rich.console import Console

    from indicated.scoring import score_cases, score_extraction

    console = Console()
    with _errors():
        for folder in folders:
            files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
            if not files:
                raise InputError(f"{folder}: no *.yaml cases in this folder")
            if "annotations" in (yaml.safe_load(files[0].read_text()) or {}):
                x = score_extraction(folder)
                console.print(
                    f"{folder}: {x.notes} notes; findings precision {x.precision:.3f}, recall {x.recall:.3f}; "
                    f"procedures recall {x.procedure_recall:.3f}; codes of another region {x.other_region}; "
                    f"review right {x.review_right}/{x.notes}"
                )
                found = x.misses
            else:
                c = score_cases([folder])
                console.print(
                    f"{folder}: {c.cases} cases; overall right {c.overall_right}/{c.cases}; "
                    f"checks right {sum(c.right.values())}/{sum(c.total.values())} ({c.accuracy:.1%})"
                )
                found = c.misses
            if misses:
                for line in found:
                    console.print(f"  {line}", markup=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    policy_set: Annotated[str | None, typer.Option("--policy-set", "-p", help=SET_HELP)] = None,
    access_log: Annotated[bool, typer.Option(help="Log each request line (paths and search terms).")] = False,
    open_demo: Annotated[
        bool,
        typer.Option(
            "--open", help="Local demo: anyone may send and read cases without credentials (every page says so)."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Worker processes on one database (PostgreSQL when they span several machines)."
        ),
    ] = 1,
) -> None:
    """Run the HTTP service: API, web page, CDS Hooks (CRD), prior authorization (PAS); OpenAPI at /docs.

    Stored cases are read by signed-in reviewers (`indicated reviewers add`) and by the API client that
    sent them (`indicated clients add`). The database is INDICATED_DATABASE_URL (a SQLite file under
    ~/.local/share/indicated by default)."""
    import os

    import uvicorn

    from indicated.service import create_app, db
    from indicated.service.settings import Settings

    with _errors():
        settings = Settings.from_env(policy_set=policy_set, open=open_demo)
        if workers == 1:
            target = create_app(settings)
        else:  # migrate once here, not in each worker at the same moment; workers read the settings
            engine = db.engine_for(settings.database_url)  # from the environment, as this process did
            db.upgrade(engine)
            engine.dispose()
            os.environ.update(INDICATED_POLICY_SET=settings.policy_set, INDICATED_OPEN="1" if settings.open else "")
            target = "indicated.service:create_app"
    if settings.open:
        typer.echo("indicated: OPEN DEMO: anyone who can reach this server may send and read cases", err=True)
    uvicorn.run(target, host=host, port=port, access_log=access_log, workers=workers, factory=workers > 1)


reviewers_app = typer.Typer(no_args_is_help=True, help="Reviewer accounts for the review workflow.")
app.add_typer(reviewers_app, name="reviewers")


USERNAME = Annotated[str, typer.Argument(help="The reviewer's login name.")]
PASSWORD_STDIN = Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")]


@contextmanager
def _accounts() -> Iterator:
    """A session on the service's database (INDICATED_DATABASE_URL), migrated first; account errors
    (a name taken or unknown, a password too short) become one line and exit code 2."""
    from indicated.errors import NotFound, WorkflowError
    from indicated.service import db
    from indicated.service.settings import Settings

    with _errors():
        engine = db.engine_for(Settings.from_env().database_url)
        db.upgrade(engine)
        with db.sessions(engine)() as session:
            try:
                yield session
            except (ValueError, WorkflowError, NotFound) as exc:
                raise InputError(str(exc)) from exc


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@reviewers_app.command("add")
def reviewers_add(username: USERNAME, password_stdin: PASSWORD_STDIN = False) -> None:
    """Create a reviewer account (the password is stored as an Argon2id hash)."""
    from indicated.service import repo

    password = _password(password_stdin)
    with _accounts() as session:
        repo.add_reviewer(session, username=username, password=password)
    typer.echo(f"reviewer {username} created")


@reviewers_app.command("list")
def reviewers_list() -> None:
    """The reviewer accounts, with when each was created."""
    from indicated.service import repo

    with _accounts() as session:
        for r in repo.reviewers(session):
            typer.echo(f"{r.username}\t{r.created_at:%Y-%m-%d %H:%M}")


@reviewers_app.command("remove")
def reviewers_remove(username: USERNAME) -> None:
    """Delete a reviewer account and end its sessions (the audit log keeps what it did, by name)."""
    from indicated.service import repo

    with _accounts() as session:
        repo.remove_reviewer(session, username=username)
    typer.echo(f"reviewer {username} removed")


@reviewers_app.command("passwd")
def reviewers_passwd(username: USERNAME, password_stdin: PASSWORD_STDIN = False) -> None:
    """Set a reviewer's password; every session opened with the old one ends."""
    from indicated.service import repo

    password = _password(password_stdin)
    with _accounts() as session:
        repo.set_password(session, username=username, password=password)
    typer.echo(f"password of {username} changed")


clients_app = typer.Typer(
    no_args_is_help=True, help="API clients: the systems that send cases, PAS requests and CDS Hooks calls."
)
app.add_typer(clients_app, name="clients")
CLIENT = Annotated[str, typer.Argument(help="The client's name (a system, such as an EHR or a portal).")]


@clients_app.command("add")
def clients_add(
    name: CLIENT,
    jwks: Annotated[
        Path | None, typer.Option(help="The client's public keys (a JWK Set file), for its CDS Hooks JWTs.")
    ] = None,
    issuer: Annotated[str | None, typer.Option(help="The `iss` of the client's CDS Hooks JWTs.")] = None,
    key: Annotated[bool, typer.Option(help="Issue an API key (shown once; only its hash is kept).")] = True,
) -> None:
    """Register a client. Its API key is printed once: send it as `Authorization: Bearer ik_...`."""
    from indicated.service import clients

    keys = None
    if jwks is not None:
        try:
            keys = jwks.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot read {jwks}: {exc.strerror}", EXIT_INPUT)
    with _accounts() as session:
        _, plain = clients.add_client(session, name=name, jwks=keys, issuer=issuer, key=key)
    typer.echo(f"client {name} created")
    if plain:
        typer.echo(plain)


@clients_app.command("list")
def clients_list() -> None:
    """The clients, with what each may use and when it was created (never a key)."""
    from indicated.service import clients

    with _accounts() as session:
        for c in clients.clients(session):
            uses = ", ".join(u for u, has in (("API key", c.key_hash), (f"CDS Hooks JWT ({c.issuer})", c.jwks)) if has)
            typer.echo(f"{c.name}\t{c.created_at:%Y-%m-%d %H:%M}\t{uses}")


@clients_app.command("key")
def clients_key(name: CLIENT) -> None:
    """Issue a new API key for a client; the old one stops working at once."""
    from indicated.service import clients

    with _accounts() as session:
        plain = clients.new_client_key(session, name=name)
    typer.echo(plain)


@clients_app.command("remove")
def clients_remove(name: CLIENT) -> None:
    """Remove a client: its key and JWTs stop working; what it sent stays, for reviewers."""
    from indicated.service import clients

    with _accounts() as session:
        clients.remove_client(session, name=name)
    typer.echo(f"client {name} removed")


audit_app = typer.Typer(no_args_is_help=True, help="The review workflow's audit log.")
app.add_typer(audit_app, name="audit")


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, digest = value.lower().partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(f"--anchor {value!r}: expected SEQ:HASH, a sequence number and a 64-digit hex hash")
    return int(seq), digest


@audit_app.command("verify")
def audit_verify(
    database: Annotated[
        str | None,
        typer.Option("--database", help="Database URL (default: INDICATED_DATABASE_URL, as the server uses)."),
    ] = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="SEQ:HASH of a head recorded earlier outside the database: that entry must be unchanged.",
        ),
    ] = None,
) -> None:
    """Check the audit log's hash chain and that every article's state is the one its entries lead to.

    Prints the first broken link (its id and sequence number, and what is wrong), the count of all,
    and the head to record elsewhere as an anchor. Exit 0 when intact, 1 when not, 2 when the
    database cannot be read. Never prints an entry's reason or anything of a case: identifiers and
    sequence numbers only."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from sqlalchemy import inspect
    from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

    from indicated.service import db, repo
    from indicated.service.settings import Settings

    with _errors():
        pinned = _anchor(anchor)
        url = database or Settings.from_env().database_url
        if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).is_file():
            raise InputError(f"no database at {url.split('///', 1)[-1]}")  # a typo must not verify an empty log
        engine = db.engine_for(url)
        try:
            # read only: an auditor neither creates nor migrates the database it checks
            if "hash" not in {c["name"] for c in inspect(engine).get_columns("audit_log")}:
                raise InputError("this database's audit log has no hash chain yet: start the server once to migrate it")
            with db.sessions(engine)() as session:
                report = repo.verify_audit(session, anchor=pinned)
        except NoSuchTableError as exc:
            raise InputError("no audit log in this database") from exc
        except SQLAlchemyError as exc:
            raise InputError(f"cannot read the audit log: {type(exc).__name__}") from exc
        finally:
            engine.dispose()
    table = Table(show_header=False, title="Audit log")
    table.add_row("database", engine.url.render_as_string(hide_password=True))
    table.add_row("entries checked", str(report.entries))
    table.add_row("articles checked", str(report.assessments))
    table.add_row("head", f"seq {report.head_seq}:{report.head_hash}")
    if pinned:
        anchored = not any(b.problem == "anchor mismatch" for b in report.breaks)
        table.add_row("anchor", f"seq {pinned[0]} " + ("[green]matches[/green]" if anchored else "[red]differs[/red]"))
    chain = [b for b in report.breaks if b.problem != "anchor mismatch"]
    if chain:
        first = chain[0]
        where = f"id {first.id}, seq {first.seq}" if first.id is not None else f"seq {first.seq}"
        table.add_row("chain", f"[red]broken[/red] at {where}: {first.problem} ({first.detail}); {len(chain)} in all")
    else:
        table.add_row("chain", "[green]intact[/green]")
    if report.mismatches:
        m = report.mismatches[0]
        at = f" at entry seq {m.seq}" if m.seq is not None else ""
        table.add_row(
            "states",
            f"[red]{len(report.mismatches)} not accounted for[/red]: article {escape(m.assessment_id)} is "
            f"{escape(m.actual)}{at} "
            f"where the log leads to {escape(m.recorded)}",
        )
    else:
        table.add_row("states", "[green]every article's state is in the log[/green]")
    Console(width=200).print(table)
    typer.echo("intact" if report.intact else "NOT intact")
    if not report.intact:
        raise typer.Exit(1)


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

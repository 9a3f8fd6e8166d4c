"""batch: a JSONL file of cases -> a JSONL file of determinations, one output row per input line.

A payer re-reviews requests in bulk, so a bad line must never stop or silently shrink a run: every
input line yields exactly one row, in input order, either the assessment or an error naming the line.
Work runs in-process, on a pool of local processes (each loads the knowledge once), or on Ray Data, so
the same job scales from a laptop to a cluster. ``--resume`` skips ids already written, which makes an
interrupted run safe to start again.

Input line: ``{"id": ..., "text": "..."}`` or a JSON case (``id`` plus Case fields). Output row:
``{"id", "line", "ok": true, "determination", "assessment"}`` or ``{"id", "line", "ok": false, "error"}``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from indicated.errors import IndicatedError, InputError

__all__ = ["BatchSummary", "assess_line", "run_batch"]

CHUNK = 16  # lines per task sent to a worker process: large enough to amortise pickling


@dataclass(frozen=True)
class BatchSummary:
    total: int
    skipped: int
    written: int
    errors: int


def _parse(raw: str) -> object:
    """The line as JSON, or the error that says why it is not (kept to become the row's error)."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        return exc


def _row_id(line_no: int, data: object) -> str:
    """The row's id: the case's own ``id`` when the line is a JSON object that has one."""
    if isinstance(data, dict) and data.get("id") not in (None, ""):
        return str(data["id"])
    return f"line-{line_no}"


def line_id(line_no: int, raw: str) -> str:
    return _row_id(line_no, _parse(raw))


def assess_line(line_no: int, raw: str, policy_set: str = "clinical", as_of: date | None = None) -> str:
    """One input line -> one output row (JSON text). Never raises: a failure becomes an error row."""
    data = _parse(raw)
    head = f'{{"id": {json.dumps(_row_id(line_no, data))}, "line": {line_no}, '
    try:
        from indicated.pipeline import assess
        from indicated.render.json import to_json

        assessment = assess(_case(raw, data, line_no), policy_set=policy_set, as_of=as_of)
        body = to_json(assessment, indent=None)
        return head + f'"ok": true, "determination": "{assessment.determination.value}", "assessment": {body}}}'
    except IndicatedError as exc:
        return head + f'"ok": false, "error": {json.dumps(str(exc))}}}'
    except Exception as exc:  # a bug on one case must not cost the other million
        return head + f'"ok": false, "error": {json.dumps(f"internal error: {type(exc).__name__}: {exc}")}}}'


def _case(raw: str, data: object, line_no: int):
    from indicated.inputs import case_from_dict, check_text

    source = f"line {line_no}"
    if not raw.strip():
        raise InputError(f"{source}: empty line")
    if isinstance(data, ValueError):
        raise InputError(f"{source}: not valid JSON ({data})")
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object with 'text' or case fields")
    if set(data) <= {"id", "text"}:
        if not isinstance(data.get("text"), str):
            raise InputError(f"{source}: 'text' must be a string")
        return check_text(data["text"], source=source)
    return case_from_dict(data, source=source)


def done_ids(out: Path) -> Counter[str]:
    """Ids already written to ``out``, counted (an id may repeat in the input); a partial last line
    (a run killed mid-write) is dropped."""
    if not out.exists():
        return Counter()
    text = out.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        out.write_text(text, encoding="utf-8")
    ids: Counter[str] = Counter()
    for row in text.splitlines():
        try:
            ids[str(json.loads(row)["id"])] += 1
        except (ValueError, KeyError, TypeError):
            continue
    return ids


def read_lines(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig") as f:
            return [line.rstrip("\r\n") for line in f]
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc


def run_batch(
    src: Path,
    out: Path,
    *,
    workers: int = 1,
    resume: bool = False,
    engine: str = "local",
    policy_set: str = "clinical",
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> BatchSummary:
    """Assess every line of ``src`` into ``out`` (appending when resuming), in input order."""
    if workers < 1:
        raise InputError("--workers must be at least 1")
    if engine not in ("local", "ray"):
        raise InputError(f"unknown engine {engine!r}; choose local or ray")
    lines = read_lines(src)
    done = done_ids(out) if resume else Counter()
    todo = []
    for n, raw in enumerate(lines, 1):
        rid = line_id(n, raw) if done else ""
        if done[rid] > 0:
            done[rid] -= 1
        else:
            todo.append((n, raw))
    if on_total:
        on_total(len(todo))
    rows = (_ray if engine == "ray" else _local)(todo, workers, policy_set, as_of)
    written = errors = 0
    with out.open("a" if resume else "w", encoding="utf-8") as f:
        for row in rows:
            f.write(row + "\n")
            written += 1
            errors += '"ok": false' in row  # quotes inside values are escaped, so only our key matches
            if progress:
                progress(1)
    return BatchSummary(total=len(lines), skipped=len(lines) - len(todo), written=written, errors=errors)


def _local(todo: list[tuple[int, str]], workers: int, policy_set: str, as_of: date | None) -> Iterator[str]:
    if workers == 1 or len(todo) < 2 * CHUNK:
        for n, raw in todo:
            yield assess_line(n, raw, policy_set, as_of)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_warm) as pool:
        numbers, raws = zip(*todo, strict=True)
        k = len(todo)
        yield from pool.map(assess_line, numbers, raws, [policy_set] * k, [as_of] * k, chunksize=CHUNK)


def _warm() -> None:
    """Load the knowledge and the language pipeline once per worker process, before its first case."""
    from indicated.engine import Engine

    engine = Engine.bundled()
    scope = engine.knowledge.scope
    engine.assess(f"{scope.example} Requested: {', '.join(scope.example_codes)}.")


class _RayAssessor:
    """A Ray actor: the knowledge and pipeline load once per actor, then it assesses batch after batch."""

    def __init__(self, policy_set: str, as_of: date | None) -> None:
        _warm()
        self.policy_set, self.as_of = policy_set, as_of

    def __call__(self, batch: dict) -> dict:
        rows = [
            assess_line(int(n), str(raw), self.policy_set, self.as_of)
            for n, raw in zip(batch["line"], batch["raw"], strict=True)
        ]
        return {"row": rows}


def _ray(todo: list[tuple[int, str]], workers: int, policy_set: str, as_of: date | None) -> Iterable[str]:
    """The same rows on Ray Data: uses the running Ray cluster, or starts a local one."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise InputError("the ray engine needs Ray Data: pip install 'indicated[ray]'") from exc
    if not todo:
        return []
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ds = ray.data.from_items([{"line": n, "raw": raw} for n, raw in todo])
    mapped = ds.map_batches(
        _RayAssessor,
        fn_constructor_args=(policy_set, as_of),
        batch_size=64,
        concurrency=workers,
        batch_format="numpy",
    )
    return (r["row"] for r in mapped.iter_rows())

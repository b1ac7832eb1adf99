"""The state file of a batch, beside its output (`<out>.state.json`): what the batch is
(its id, input, knowledge, options) and how far it has written (a checkpoint).

The checkpoint says: records before `next_record` are written, the results file holds
exactly `out_bytes` bytes of them and the rejects file `rejects_bytes`. It is saved
atomically (a temporary file renamed over the old one) after the two files are flushed
to disk, about once a second, so after a crash it is at most a second behind. A resumed
batch cuts both files back to the checkpoint's sizes and goes on from `next_record`;
anything written after the checkpoint is written again, and an evaluation the audit
store already holds (appended before the crash, its line not yet written) is taken from
the store, not evaluated again: the evaluation ids are fixed by the batch id and the
record's place (`evaluation_id`).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmlkb.errors import InvalidInput

__all__ = [
    "STATE_FORMAT",
    "BatchState",
    "Checkpoint",
    "default_rejects",
    "differences",
    "evaluation_id",
    "state_path",
]

STATE_FORMAT = 1


def state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.json")


def default_rejects(out: Path) -> Path:
    return out.with_name(out.name + ".rejects.jsonl")


def evaluation_id(batch_id: str, index: int) -> str:
    """The evaluation id of record `index` of batch `batch_id` (a UUID): the same on every
    run of the batch, so a resumed batch finds what it stored before."""
    return uuid.uuid5(uuid.UUID(batch_id), f"record {index}").hex


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Checkpoint:
    """How far the batch has written (counts are over the whole batch, all runs)."""

    next_record: int = 0
    out_bytes: int = 0
    rejects_bytes: int = 0
    evaluated: int = 0
    rejected: int = 0
    failed: int = 0


@dataclass
class BatchState:
    """A batch's identity and checkpoint, as kept in its state file."""

    batch_id: str
    input: dict[str, Any]
    knowledge: dict[str, str]
    options: dict[str, Any]
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    complete: bool = False
    started: str = field(default_factory=now)
    updated: str = field(default_factory=now)

    def as_json(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, **asdict(self)}

    def save(self, path: Path) -> None:
        """Write the state atomically: a reader finds the old state or the new one."""
        self.updated = now()
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(self.as_json(), handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> BatchState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInput(
                f"nothing to resume: there is no batch state {path} (it is written beside "
                "--out when a batch starts)"
            ) from None
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read the batch state {path}: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise InvalidInput(f"{path} is not a batch state this cmlkb can resume")
        try:
            return cls(
                batch_id=str(data["batch_id"]),
                input=dict(data["input"]),
                knowledge=dict(data["knowledge"]),
                options=dict(data["options"]),
                checkpoint=Checkpoint(**data["checkpoint"]),
                complete=bool(data["complete"]),
                started=str(data["started"]),
                updated=str(data["updated"]),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"{path} is not a batch state this cmlkb can resume") from exc


def differences(saved: BatchState, current: BatchState) -> list[str]:
    """What keeps a saved batch from being resumed with the current input, knowledge and
    options, in plain words (empty when it can be)."""
    found: list[str] = []
    if saved.input.get("digest") != current.input.get("digest"):
        found.append(
            f"the input changed (the batch read {saved.input.get('path')} with "
            f"{saved.input.get('records')} records, digest {saved.input.get('digest')}; "
            f"now {current.input.get('path')} has {current.input.get('records')} records, "
            f"digest {current.input.get('digest')})"
        )
    if saved.knowledge.get("digest") != current.knowledge.get("digest"):
        found.append(
            f"the knowledge changed (the batch used {saved.knowledge.get('version')} "
            f"{saved.knowledge.get('digest')}; now {current.knowledge.get('version')} "
            f"{current.knowledge.get('digest')})"
        )
    for key in sorted(set(saved.options) | set(current.options)):
        before, after = saved.options.get(key), current.options.get(key)
        if before != after:
            found.append(f"the option {key} was {_show(before)}, now {_show(after)}")
    return found


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)

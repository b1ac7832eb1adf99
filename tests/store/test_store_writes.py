"""The audit store: one transaction per evaluation; a writer killed mid-way leaves a
readable store with no partial evaluation and an intact hash chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyoxigraph as ox

from cmlkb.interfaces.cli import main, store_location
from cmlkb.provenance.audit import verify
from cmlkb.provenance.store import open_store, store_path

ROOT = Path(__file__).resolve().parents[2]
T315I = ROOT / "examples" / "cases" / "04-t315i-after-dasatinib-failure-cardiovascular.json"

WRITER = textwrap.dedent(f"""
    import sys
    from pathlib import Path
    from cmlkb.pipeline import evaluate_case, selection_for, validated_cases
    from cmlkb.knowledge.base import load_knowledge
    from cmlkb.provenance.store import open_store
    kb = load_knowledge(); sel = selection_for(kb)
    case = validated_cases([Path({str(T315I)!r})], kb)[0]
    with open_store(sys.argv[1]) as store:
        for n in range(10000):
            store.add(evaluate_case(case, kb, sel), kb)
            print(n, flush=True)
""")


def test_store_location_flag_env_default(monkeypatch, tmp_path, capsys):
    """The command line chooses the store (--store, else $CMLKB_STORE, else the store's
    default ./audit-store); the library takes the path it is given and reads no variable."""
    assert store_location(None, {}) is None
    assert store_location(None, {"CMLKB_STORE": str(tmp_path / "env")}) == str(tmp_path / "env")
    assert store_location(str(tmp_path / "flag"), {"CMLKB_STORE": "x"}) == str(tmp_path / "flag")
    monkeypatch.setenv("CMLKB_STORE", str(tmp_path / "env"))
    assert store_path(None) == Path("audit-store")
    assert store_path(tmp_path / "flag") == tmp_path / "flag"
    # end to end: the variable places the store of `cmlkb evaluate`, --store wins over it
    assert main(["evaluate", str(T315I), "--format", "json"]) == 0
    flag = ["--store", str(tmp_path / "flag")]
    assert main(["evaluate", str(T315I), "--format", "json", *flag]) == 0
    for where in ("env", "flag"):
        with open_store(tmp_path / where, create=False) as store:
            assert len(store.evaluation_ids()) == 1
    monkeypatch.delenv("CMLKB_STORE")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["audit", "verify"]) == 2  # ./audit-store does not exist: a usage error
    assert capsys.readouterr().err == (
        "cmlkb audit: no audit store at audit-store: evaluate cases without --no-store "
        "first, or give --store PATH (or set CMLKB_STORE)\n"
    )


def test_kill_during_write_leaves_consistent_store(tmp_path):
    path = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    written = 0
    deadline = time.time() + 60
    assert proc.stdout is not None
    while written < 4 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        written += 1
    time.sleep(0.05)  # kill somewhere inside a later write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert written >= 4
    with open_store(path) as store:
        count, problems = verify(store)
        assert problems == []
        assert count >= written
        for record in store.records():  # every stored evaluation is complete
            g = record.graph
            assert store.store.contains_named_graph(g)
            kinds = {
                q.predicate.value.rsplit("#", 1)[-1]
                for q in store.store.quads_for_pattern(g, None, None, g)
            }
            assert {"resultJson", "inputJson", "recordDigest", "sequenceNumber"} <= kinds
            statuses = list(
                store.store.quads_for_pattern(
                    None, ox.NamedNode("https://w3id.org/cmlkb/fact#status"), None, g
                )
            )
            statuses = [q for q in statuses if "/status/" in q.subject.value]
            assert len(statuses) == len(store.stored_result(g)["drugs"]) > 0

"""Every file of Porcupine's test corpus gets the verdict in its expected.json.

The corpus (Jepsen etcd logs and EDN key-value histories, MIT licence) lives in
``../shared/corpus/porcupine``; it is read from there, never copied into the project.
"""

import json
import time

import pytest

from dsalgo.check import linearizable
from dsalgo.check.models import KV
from dsalgo.histories import read_edn, read_jepsen_log

PER_FILE_LIMIT = 30.0          # seconds; generous, files take well under 3 s each


def _load(corpus):
    root = corpus / "porcupine"
    expected = json.loads((root / "expected.json").read_text())
    return root, expected


def _check(root, name, meta):
    if meta["format"] == "jepsen_etcd_log":
        history = read_jepsen_log(root / name)
        model = "cas-register"
    else:
        assert meta["format"] == "edn_kv_history"
        history = read_edn(root / name)
        model = KV(initial="")       # Porcupine's kv model: every key starts as ""
    # Where expected.json names the first violating line, every key is decided so the
    # smallest bad prefix can be compared.  Elsewhere, like Porcupine, the first key proven
    # bad decides the verdict: other keys of c50-bad are too hard to exhaust for any
    # checker (expected.json's independent recheck timed out on them at 40 s).
    first = "first_violating_line" not in meta
    return history, linearizable(history, model, time_limit=PER_FILE_LIMIT,
                                 stop_at_first=first)


def test_every_corpus_file_gets_the_expected_verdict(shared_corpus):
    root, expected = _load(shared_corpus)
    files = expected["files"]
    assert len(files) == expected["summary"]["jepsen_total_files"] + len(expected["summary"]["kv"])
    mismatches, timed_out, lines, seconds = [], [], [], {}
    for name, meta in files.items():
        start = time.perf_counter()
        history, verdict = _check(root, name, meta)
        seconds[name] = time.perf_counter() - start
        want = meta["linearizable"]
        if want is None:             # etcd_095: empty, the etcd cluster never started
            assert len(history) == 0 and meta["lines"] == 0
            continue
        if verdict.status == "unknown":
            timed_out.append(name)
        elif bool(verdict) != want:
            mismatches.append((name, want, verdict.status))
        if "first_violating_line" in meta and not verdict:
            # times are line numbers: the smallest bad prefix ends at the reported line
            got = verdict.info["explanations"][0]["prefix_end"]
            if got != meta["first_violating_line"]:
                lines.append((name, meta["first_violating_line"], got))
    worst = max(seconds, key=seconds.get)
    print(f"\ncorpus: {len(files)} files in {sum(seconds.values()):.2f} s; "
          f"worst {worst} {seconds[worst]:.2f} s")
    assert not timed_out, f"hit the {PER_FILE_LIMIT} s limit: {timed_out}"
    assert not mismatches, f"verdicts differ from expected.json: {mismatches}"
    assert not lines, f"smallest bad prefix differs from first_violating_line: {lines}"


def test_corpus_summary_lists_agree_with_files(shared_corpus):
    # the summary and the per-file entries are two views of one truth; read both
    _, expected = _load(shared_corpus)
    files, summary = expected["files"], expected["summary"]
    true_jepsen = sorted(n for n, m in files.items()
                         if n.startswith("jepsen/") and m["linearizable"] is True)
    assert true_jepsen == sorted(summary["jepsen_linearizable_true"])
    assert sum(1 for n, m in files.items() if n.startswith("jepsen/")
               and m["linearizable"] is False) == summary["jepsen_linearizable_false_count"]
    assert {n: files[n]["linearizable"] for n in summary["kv"]} == summary["kv"]


def test_reader_counts_match_corpus_metadata(shared_corpus):
    root, expected = _load(shared_corpus)
    for name, meta in expected["files"].items():
        if meta["format"] != "jepsen_etcd_log":
            continue
        h = read_jepsen_log(root / name)
        assert len(h) == meta["invocations"], name
        counts = h["status"].value_counts()
        assert counts.get("ok", 0) == meta["ok"], name
        # ':fail :read :timed-out' is a fail too; expected.json counts it under fail
        assert counts.get("fail", 0) == meta["fail"], name
        assert counts.get("info", 0) == meta["info_indeterminate"], name
        assert h["process"].nunique() == meta["distinct_process_ids"], name


@pytest.mark.parametrize("name", ["kv/c10-ok.txt", "kv/c10-bad.txt"])
def test_kv_reader_counts(shared_corpus, name):
    root, expected = _load(shared_corpus)
    meta = expected["files"][name]
    h = read_edn(root / name)
    assert len(h) == meta["invocations"]
    assert h["key"].nunique() == meta["distinct_keys"]
    assert (h["status"] == "ok").all()


def test_default_arguments_decide_every_corpus_file(shared_corpus):
    # the readers name the semantics and the defaults stop at the first bad key: every
    # file is decided with no argument beyond the model (kv files: Porcupine's initial "")
    root, expected = _load(shared_corpus)
    for name, meta in expected["files"].items():
        if meta["format"] == "jepsen_etcd_log":
            history, model = read_jepsen_log(root / name), "cas-register"
            assert history.attrs["semantics"] == "porcupine"
        else:
            history, model = read_edn(root / name), KV(initial="")
            assert history.attrs["semantics"] == "knossos"
        verdict = linearizable(history, model)
        if meta["linearizable"] is not None:
            assert verdict.status == ("ok" if meta["linearizable"] else "violated"), name

"""B3 — linearizability checking: dsalgo against Porcupine on the same files, in one run.

The histories are Porcupine's test data (``../shared/corpus/porcupine/``: 103 Jepsen etcd
logs and 6 EDN key-value histories, MIT licence), read from there and never copied into
the project.  Every file is checked by :func:`dsalgo.check.linearizable` with **default
arguments** (cas-register model for the logs, ``KV(initial="")`` for the kv files) and the
verdict compared with ``expected.json``.

**Porcupine side by side.**  When Go is installed (Debian's ``golang``; Porcupine needs no
modules), the benchmark writes a small Go driver of its own into a temporary directory — a
``main`` package in a module that ``replace``\\ s ``github.com/anishathalye/porcupine``
with ``../shared/anchors/porcupine`` — builds it offline and runs it on the same files.
The driver parses the files as Porcupine's tests do (the etcd model: a failed cas observed
the compare failing, a nil read saw an absent key, an ``:info`` operation returns at the
end with an unknown outcome; the kv model, partitioned by key) and times
``porcupine.CheckEvents`` / ``CheckOperations`` alone.  Nothing of Porcupine is copied: it
is built and run from the anchors folder.  ``GOMAXPROCS=1``: dsalgo uses one core, so
Porcupine does too (it otherwise checks kv partitions on parallel goroutines).

**What is timed, on each side.**  Both start from the history already parsed into memory,
and parsing the file is outside the timing on both:

- dsalgo: ``linearizable(history, model)`` on the history table that
  :func:`~dsalgo.histories.read_jepsen_log` / :func:`~dsalgo.histories.read_edn` returned
  (read once, before timing): checking the arguments and the table, turning its rows into
  search operations, partitioning by key, the search, and the verdict — with, for a
  violation, its explanation (the smallest non-linearizable prefix, the operations
  concurrent with it, their processes);
- Porcupine: ``CheckEvents`` / ``CheckOperations`` on the ``[]Event`` / ``[]Operation``
  the driver parsed (once, before timing): building and renumbering its entries,
  partitioning, the search, and its boolean answer (the non-verbose check: no partial
  linearizations are computed).

So dsalgo's figure holds a little more work than Porcupine's (the explanation), never less.

Figures, per file and in total: check time (each figure the minimum over ``--rounds``
interleaved rounds, each repeating a file for at least 20 ms), and the ratio dsalgo /
Porcupine, with the distribution of the per-file ratios.  Targets (issue 17): total ratio
≤ 1.5, no file above 5×.

**Scaling.**  ``--scaling`` adds the growth curve from 100 to 100 000 operations on one
register at 5 and 10 processes (histories linearizable by construction, made by
:func:`dsalgo.histories.process_register_history`): time, stored configurations and peak memory (``tracemalloc``) of
dsalgo, and Porcupine's time on the same histories when Go is available.

Run: ``python benchmarks/linearizability.py [--corpus PATH] [--rounds N] [--scaling]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

from dsalgo.check import linearizable
from dsalgo.check.models import KV
from dsalgo.histories import process_register_history, read_edn, read_jepsen_log

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "porcupine"
ANCHOR = ROOT.parent / "shared" / "anchors" / "porcupine"

GO_DRIVER = r'''
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

type etcdIn struct{ op, a1, a2 int }            // op 0 read, 1 write, 2 cas
type etcdOut struct{ ok, exists, unknown bool; v int }

const nilValue = -1000000

var etcdModel = porcupine.Model{
	Init: func() interface{} { return nilValue },
	Step: func(s, i, o interface{}) (bool, interface{}) {
		st, in, out := s.(int), i.(etcdIn), o.(etcdOut)
		switch in.op {
		case 0:
			return out.unknown || (!out.exists && st == nilValue) || (out.exists && st == out.v), st
		case 1:
			return true, in.a1
		}
		next := st
		if in.a1 == st {
			next = in.a2
		}
		return out.unknown || (in.a1 == st) == out.ok, next
	},
}

var logLine = regexp.MustCompile(`jepsen\.util - (\d+)\s+:(\w+)\s+:(\w+)\s*(.*)$`)

func atoi(s string) int {
	s = strings.TrimSpace(s)
	if s == "nil" || s == "" {
		return nilValue
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func parseEtcd(path string) []porcupine.Event {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var events []porcupine.Event
	pending := map[int]int{}     // process -> id
	inputs := map[int]etcdIn{}
	id := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		m := logLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		proc, _ := strconv.Atoi(m[1])
		typ, fn, val := m[2], m[3], strings.TrimSpace(m[4])
		if typ == "invoke" {
			var in etcdIn
			switch fn {
			case "read":
				in = etcdIn{op: 0}
			case "write":
				in = etcdIn{op: 1, a1: atoi(val)}
			case "cas":
				p := strings.Fields(strings.Trim(val, "[]"))
				in = etcdIn{op: 2, a1: atoi(p[0]), a2: atoi(p[1])}
			}
			pending[proc] = id
			inputs[id] = in
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.CallEvent, Value: in, Id: id})
			id++
			continue
		}
		cid, ok := pending[proc]
		if !ok {
			continue
		}
		delete(pending, proc)
		switch {
		case typ == "info":
			pending[-1-cid] = cid                  // returns at the end, outcome unknown
		case typ == "fail" && fn == "read":
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: etcdOut{unknown: true}, Id: cid})
		case fn == "read":
			out := etcdOut{exists: val != "nil", v: atoi(val)}
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: out, Id: cid})
		case fn == "write":
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: etcdOut{}, Id: cid})
		default:
			events = append(events, porcupine.Event{ClientId: proc, Kind: porcupine.ReturnEvent, Value: etcdOut{ok: typ == "ok"}, Id: cid})
		}
	}
	for _, cid := range pending {
		events = append(events, porcupine.Event{Kind: porcupine.ReturnEvent, Value: etcdOut{unknown: true}, Id: cid})
	}
	return events
}

type kvIn struct{ op int; key, value string }    // op 0 get, 1 put, 2 append
type kvOut struct{ value string }

var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		m := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(kvIn).key
			if _, ok := m[k]; !ok {
				keys = append(keys, k)
			}
			m[k] = append(m[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, m[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(s, i, o interface{}) (bool, interface{}) {
		st, in, out := s.(string), i.(kvIn), o.(kvOut)
		switch in.op {
		case 0:
			return out.value == st, st
		case 1:
			return true, in.value
		}
		return true, st + in.value
	},
}

var ednLine = regexp.MustCompile(`\{:process (\d+), :type :(\w+), :f :(\w+), :key "([^"]*)", :value (nil|"[^"]*")\}`)

func parseKV(path string) []porcupine.Operation {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var ops []porcupine.Operation
	open := map[int]int{}
	for t, line := range strings.Split(string(data), "\n") {
		m := ednLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		proc, _ := strconv.Atoi(m[1])
		val := strings.Trim(m[5], `"`)
		if m[5] == "nil" {
			val = ""
		}
		if m[2] == "invoke" {
			op := map[string]int{"get": 0, "put": 1, "append": 2}[m[3]]
			open[proc] = len(ops)
			ops = append(ops, porcupine.Operation{ClientId: proc, Input: kvIn{op, m[4], val}, Call: int64(t)})
		} else {
			i := open[proc]
			ops[i].Return = int64(t)
			ops[i].Output = kvOut{val}
		}
	}
	return ops
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "\t", 3)
		kind, minTime, path := parts[0], parts[1], parts[2]
		budget, _ := strconv.ParseFloat(minTime, 64)
		var check func() bool
		if kind == "etcd" {
			ev := parseEtcd(path)
			check = func() bool { return porcupine.CheckEvents(etcdModel, ev) }
		} else {
			ops := parseKV(path)
			check = func() bool { return porcupine.CheckOperations(kvModel, ops) }
		}
		best, total, n := 1e18, 0.0, 0
		var ok bool
		for n == 0 || total < budget {
			t0 := time.Now()
			ok = check()
			s := time.Since(t0).Seconds()
			total += s
			n++
			if s < best {
				best = s
			}
		}
		if err := enc.Encode(map[string]interface{}{"file": path, "linearizable": ok, "seconds": best, "runs": n}); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}
'''


def build_porcupine(workdir: Path) -> Path | None:
    """Build the Go driver against ``../shared/anchors/porcupine``; None without Go or anchor."""
    go = shutil.which("go")
    if go is None or not (ANCHOR / "checker.go").exists():
        return None
    (workdir / "main.go").write_text(GO_DRIVER)
    (workdir / "go.mod").write_text(
        "module lbench\n\ngo 1.16\n\nrequire github.com/anishathalye/porcupine v0.0.0\n\n"
        f"replace github.com/anishathalye/porcupine => {ANCHOR}\n")
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on",
           "GOCACHE": str(workdir / "cache"), "GOPATH": str(workdir / "gopath")}
    subprocess.run([go, "build", "-o", "porcupine-driver", "."], cwd=workdir, env=env,
                   check=True, capture_output=True)
    return workdir / "porcupine-driver"


def run_porcupine(binary: Path, jobs: list[tuple[str, Path]], min_time: float) -> dict:
    """Porcupine's check time (min of repeats) and verdict per file, one process."""
    text = "".join(f"{kind}\t{min_time}\t{path}\n" for kind, path in jobs)
    out = subprocess.run([str(binary)], input=text, capture_output=True, text=True,
                         check=True, env={**os.environ, "GOMAXPROCS": "1"})
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    return {r["file"]: (r["seconds"], r["linearizable"]) for r in rows}


def time_dsalgo(history, model, min_time: float):
    """dsalgo's check time (min of repeats for at least ``min_time`` s) and verdict."""
    best, total, verdict = float("inf"), 0.0, None
    while verdict is None or total < min_time:
        t0 = time.perf_counter()
        verdict = linearizable(history, model)
        s = time.perf_counter() - t0
        total += s
        best = min(best, s)
    return best, verdict


def _etcd_log(history, path: Path):
    """Write a history as a Jepsen log (what the Porcupine driver reads), in time order."""
    def edn(v):
        return "nil" if v is None else str(v)

    events = []
    for r in history.itertuples(index=False):
        if r.f == "get":
            arg, res = "nil", edn(r.result)
        elif r.f == "put":
            arg = res = edn(r.value)
        else:
            arg = res = f"[{edn(r.value[0])} {edn(r.value[1])}]"
        events.append((r.t_invoke, 0, f"{r.process[1:]}\t:invoke\t:{_JEPSEN[r.f]}\t{arg}"))
        events.append((r.t_complete, 1,
                       f"{r.process[1:]}\t:{r.status}\t:{_JEPSEN[r.f]}\t{res}"))
    events.sort(key=lambda e: (e[0], e[1]))
    path.write_text("".join(f"INFO  jepsen.util - {e[2]}\n" for e in events))


_JEPSEN = {"get": "read", "put": "write", "cas": "cas"}


def corpus(args, binary):
    expected = json.loads((args.corpus / "expected.json").read_text())["files"]
    names = sorted(expected)
    histories, jobs = {}, []
    for name in names:
        meta = expected[name]
        if meta["format"] == "jepsen_etcd_log":
            histories[name] = (read_jepsen_log(args.corpus / name), "cas-register")
            jobs.append(("etcd", args.corpus / name))
        else:
            histories[name] = (read_edn(args.corpus / name), KV(initial=""))
            jobs.append(("kv", args.corpus / name))
    ours = {n: float("inf") for n in names}
    theirs = {n: float("inf") for n in names}
    verdicts, their_verdicts = {}, {}
    for _ in range(args.rounds):                     # interleaved rounds
        if binary is not None:
            got = run_porcupine(binary, jobs, args.min_time)
            for name, (_kind, path) in zip(names, jobs):
                s, ok = got[str(path)]
                theirs[name] = min(theirs[name], s)
                their_verdicts[name] = ok
        for name in names:
            s, v = time_dsalgo(*histories[name], args.min_time)
            ours[name] = min(ours[name], s)
            verdicts[name] = v
    match = their_match = decided = 0
    for name in names:
        want = expected[name]["linearizable"]
        if want is None:
            continue
        decided += 1
        match += verdicts[name].status == ("ok" if want else "violated")
        their_match += their_verdicts.get(name) == want
    print(f"{'file':<22}{'ops':>7}{'dsalgo ms':>12}{'Porcupine ms':>14}{'ratio':>8}")
    ratios = {}
    for name in names:
        t_p = theirs[name] if binary is not None else float("nan")
        ratios[name] = ours[name] / t_p if binary is not None and t_p > 0 else float("nan")
        print(f"{name.split('/', 1)[1]:<22}{len(histories[name][0]):>7}"
              f"{ours[name] * 1e3:>12.3f}{t_p * 1e3:>14.3f}{ratios[name]:>8.2f}")
    total_o = sum(ours.values())
    rows = [("verdicts matching expected.json (dsalgo)", f"{match}/{decided}"),
            ("dsalgo total check time (s)", f"{total_o:.3f}"),
            ("dsalgo slowest file (s)", f"{max(ours.values()):.3f} "
                                        f"({max(ours, key=ours.get).split('/')[1]})")]
    if binary is not None:
        total_p = sum(theirs.values())
        worst = max(ratios, key=ratios.get)
        rows += [("verdicts matching expected.json (Porcupine)", f"{their_match}/{decided}"),
                 ("Porcupine total check time (s)", f"{total_p:.3f}"),
                 ("ratio dsalgo / Porcupine, total (target <= 1.5)", f"{total_o / total_p:.2f}"),
                 ("ratio per file: median", f"{statistics.median(ratios.values()):.2f}"),
                 ("ratio per file: worst (target <= 5)", f"{ratios[worst]:.2f} "
                                                          f"({worst.split('/')[1]})"),
                 ("files above 5x", f"{sum(r > 5 for r in ratios.values())}")]
        qs = statistics.quantiles(ratios.values(), n=10)
        rows += [("ratio per file: 10th / 25th / 75th / 90th percentile",
                  f"{qs[0]:.2f} / {statistics.quantiles(ratios.values(), n=4)[0]:.2f} / "
                  f"{statistics.quantiles(ratios.values(), n=4)[2]:.2f} / {qs[8]:.2f}"),
                 ("files above 2x / 3x / 4x", " / ".join(
                     str(sum(r > k for r in ratios.values())) for k in (2, 3, 4)))]
    else:
        rows.append(("Porcupine", "skipped (no Go or no ../shared/anchors/porcupine)"))
    print()
    for k, v in rows:
        print(f"{k:<50}{v:>26}")
    return match == decided


def scaling(args, binary, workdir: Path):
    print("\nscaling: one register, linearizable; max_configs default, time_limit None")
    print(f"{'procs':>6}{'ops':>9}{'dsalgo s':>11}{'configs':>10}{'peak MB':>9}"
          f"{'Porcupine s':>13}{'ratio':>8}")
    for procs in (5, 10):
        for n in (100, 1_000, 10_000, 100_000):
            h = process_register_history(n, procs, seed=procs)
            tracemalloc.start()
            t0 = time.perf_counter()
            v = linearizable(h, "cas-register", time_limit=None)
            s = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            t0 = time.perf_counter()
            v = linearizable(h, "cas-register", time_limit=None)  # untraced time
            s = min(s, time.perf_counter() - t0)
            t_p = float("nan")
            if binary is not None and n <= args.porcupine_max_ops:
                path = workdir / f"scale_{procs}_{n}.log"
                _etcd_log(h, path)
                t_p, ok = run_porcupine(binary, [("etcd", path)], 0.0)[str(path)]
                assert ok, "Porcupine disagrees on a history linearizable by construction"
            print(f"{procs:>6}{n:>9}{s:>11.3f}{v.info['configs']:>10}{peak:>9.1f}"
                  f"{t_p:>13.3f}{s / t_p:>8.2f}  {v.status}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (min taken)")
    ap.add_argument("--min-time", type=float, default=0.02,
                    help="seconds each file is repeated for in a round")
    ap.add_argument("--scaling", action="store_true", help="add the 100..100k growth curve")
    ap.add_argument("--porcupine-max-ops", type=int, default=10_000,
                    help="largest scaling history given to Porcupine (its configurations "
                         "hold a bitset of the whole history: it runs out of memory long "
                         "before 100k operations at 10 processes)")
    args = ap.parse_args(argv)
    print(f"B3 linearizability — {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.machine()}, load average "
          f"{os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        binary = build_porcupine(workdir)
        print("Porcupine:", "built from ../shared/anchors/porcupine" if binary else "skipped")
        ok = corpus(args, binary)
        if args.scaling:
            scaling(args, binary, workdir)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

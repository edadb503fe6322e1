"""The command line: simulate, sweep (TOML specs) and their error messages."""

import re
import textwrap

import pandas as pd
import pytest

from dsalgo import cli
from dsalgo.check import Verdict
from dsalgo.cli import main, parse_params
from dsalgo.families import FAMILIES, STANDARD_PARAMETERS

MODULE = textwrap.dedent("""
    from pathlib import Path

    def cell(n, timeout, seed, label="x"):
        with open(Path(__file__).with_name("calls.txt"), "a") as fh:
            fh.write(f"{n} {seed}\\n")
        return {"quorum": n // 2 + 1, "score": n * sum(timeout) + seed, "label": label}
""")

SPEC = textwrap.dedent("""
    [sweep]
    function = "expmod:cell"
    seeds = [0, 1]
    cache = "cache"
    out = "out/results.csv"

    [params]
    n = [3, 5]

    [fixed]
    timeout = [0.1, 0.2]
""")


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "expmod.py").write_text(MODULE)
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


@pytest.mark.parametrize("command, words", [
    ([], "simulate"), (["simulate"], "--out DIR"), (["simulate"], "--check"), (["sweep"], "--scheduler ADDRESS"),
    (["report"], "--quick")])
def test_help_is_there(command, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(command + ["--help"])
    assert exc.value.code == 0 and words in capsys.readouterr().out


def test_sweep_from_a_spec_writes_results_and_resumes_from_its_cache(spec, capsys):
    assert main(["sweep", str(spec), "--no-progress"]) == 0
    assert "4 rows, 0 failed cells" in capsys.readouterr().out
    df = pd.read_csv(spec.parent / "out" / "results.csv")
    assert df[["n", "seed", "quorum"]].values.tolist() == [[3, 0, 2], [3, 1, 2], [5, 0, 3],
                                                          [5, 1, 3]]
    assert df.score.round(6).tolist() == [0.9, 1.9, 1.5, 2.5]
    assert main(["sweep", str(spec), "--no-progress", "--out", str(spec.parent / "r.parquet"),
                 "--backend", "processes", "--workers", "2"]) == 0
    assert len((spec.parent / "calls.txt").read_text().splitlines()) == 4  # all cached
    again = pd.read_parquet(spec.parent / "r.parquet")
    cols = ["n", "seed", "quorum", "score", "label"]
    pd.testing.assert_frame_equal(again[cols], df[cols])
    assert again.error.isna().all() and df.error.isna().all()


def test_sampled_design_in_a_spec(spec):
    # label is a parameter here, so the cell must not return it as a metric too
    # (a module of its own name: an imported expmod stays in sys.modules)
    (spec.parent / "expmod_tag.py").write_text(MODULE.replace('"label": label', '"tag": label'))
    spec.write_text(SPEC.replace('n = [3, 5]', 'n = [3, 5, 7]\nlabel = ["a", "b"]')
                    .replace("expmod:cell", "expmod_tag:cell") +
                    '\n[design]\nkind = "latin_hypercube"\nsamples = 6\nseed = 2\n')
    assert main(["sweep", str(spec), "--no-progress"]) == 0
    df = pd.read_csv(spec.parent / "out" / "results.csv")
    assert len(df) == 12 and sorted(df.label.unique()) == ["a", "b"]
    assert (df.tag == df.label).all() and df.error.isna().all()


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace("[params]", "[params\n"), r"spec\.toml: .*line 8"),
    (lambda s: s.replace("seeds = [0, 1]", "seeds = [0, 1]\nsedes = 3"),
     r"spec\.toml: line 5: unknown key 'sedes' in \[sweep\]"),
    (lambda s: s + "\n[grid]\nx = 1\n", r"line 14: unknown section \[grid\]"),
    (lambda s: s.replace('"expmod:cell"', '"expmod:nope"'),
     r"line 3: module 'expmod' has no function 'nope'"),
    (lambda s: s.replace('"expmod:cell"', '"missingmod:cell"'),
     r"line 3: cannot import module 'missingmod'"),
    (lambda s: s.replace('"expmod:cell"', '"cell"'), "line 3: function must be 'module:function'"),
    (lambda s: s.replace("seeds = [0, 1]", "seeds = 0"), "line 4: seeds must be a positive int"),
    (lambda s: s.replace("seeds = [0, 1]", 'backend = "gpu"'),
     "line 4: backend must be one of serial, processes, dask; got 'gpu'"),
    (lambda s: s + '\n[design]\nkind = "sobol"\n', "line 15: kind must be one of grid, random"),
    (lambda s: s.replace("n = [3, 5]", "n = {low = 3}") + '[design]\nkind = "random"\n'
     'samples = 3\n', "line 9: a range needs low and high"),
    (lambda s: s + '[design]\nkind = "random"\n', "line 13: a random design needs samples"),
    (lambda s: s.replace("timeout = [0.1, 0.2]", "n = 3"), r"line 12: 'n' is in both"),
    (lambda s: s.replace('function = "expmod:cell"', ""), r"line 2: \[sweep\] needs function"),
])
def test_malformed_spec_names_file_and_line(spec, edit, message, capsys):
    spec.write_text(edit(SPEC))
    assert main(["sweep", str(spec), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(spec) in err
    assert re.search(message, err), err


def test_missing_spec_file(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert "spec must be an existing TOML file" in capsys.readouterr().err


def test_scheduler_needs_dask(spec, capsys):
    assert main(["sweep", str(spec), "--backend", "serial", "--scheduler", "tcp://x:1"]) == 2
    assert "--scheduler needs the dask backend; got backend='serial'" in capsys.readouterr().err


def test_bad_out_suffix(spec, capsys):
    assert main(["sweep", str(spec), "--out", str(spec.parent / "r.xlsx")]) == 2
    assert "out must end in .parquet or .csv" in capsys.readouterr().err


def test_simulate_saves_a_run_that_loads_back(tmp_path, capsys):
    pytest.importorskip("dsalgo.raft")
    from dsalgo import raft, sim

    out = tmp_path / "run"
    assert main(["simulate", "raft", "--n", "3", "--duration", "1.0", "--seed", "4",
                 "--clients", "1", "--election-timeout", "0.15,0.3", "--out", str(out)]) == 0
    assert "saved raft run to" in capsys.readouterr().out
    run = sim.load_run(out)
    assert run == raft.simulate(n=3, duration=1.0, seed=4, clients=1,
                                election_timeout=(0.15, 0.3))


def test_simulate_unknown_parameter_is_named(tmp_path, capsys):
    pytest.importorskip("dsalgo.raft")
    assert main(["simulate", "raft", "--bogus-knob", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bogus" in err and "election_timeout" in err.replace(
        "-", "_")


def test_simulate_bad_value_is_one_line(tmp_path, capsys):
    pytest.importorskip("dsalgo.raft")
    assert main(["simulate", "raft", "--n", "0", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: n must be")


def test_simulate_unknown_and_missing_families(tmp_path, capsys, monkeypatch):
    assert main(["simulate", "bubble", "--out", str(tmp_path)]) == 2
    assert "family must be one of 'raft', 'paxos'" in capsys.readouterr().err
    monkeypatch.setitem(FAMILIES._modules, "raft", "dsalgo.not_written_yet")
    assert main(["simulate", "raft", "--out", str(tmp_path)]) == 2
    assert ("family 'raft' is not available in this installation: module "
            "dsalgo.not_written_yet is missing") in capsys.readouterr().err


@pytest.mark.parametrize("tokens, message", [
    (["5"], "expected --name value, got '5'"),
    (["--n"], "--n needs a value"),
    (["--n", "--m", "1"], "--n needs a value"),
    (["--9x", "1"], "--9x is not a valid parameter name"),
])
def test_bad_parameter_tokens(tokens, message):
    with pytest.raises(cli.UsageError, match=message):
        parse_params(tokens)


def test_values_are_read_as_literals():
    assert parse_params(["--a", "true", "--b", "None", "--c", "[1, 2]", "--d", "p2c"]) == {
        "a": True, "b": None, "c": [1, 2], "d": "p2c"}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_resolves_to_its_registry_module(name):
    assert cli.resolve_family(name) is FAMILIES[name]


def test_old_names_still_work_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="FAMILIES"):
        algorithms = cli.ALGORITHMS
    assert algorithms == {name: FAMILIES.module_name(name) for name in FAMILIES}
    with pytest.warns(DeprecationWarning, match="resolve_family"):
        assert cli.resolve_algorithm("raft") is FAMILIES["raft"].simulate


def test_list_params_shows_names_and_defaults(capsys):
    assert main(["simulate", "raft", "--list-params"]) == 0
    out = capsys.readouterr().out
    assert "--n (default 5)" in out and "--election-timeout (default (0.15, 0.3))" in out


@pytest.mark.parametrize("name", list(FAMILIES))
def test_list_params_shows_standard_parameters_and_the_config_knobs(name, capsys):
    module = FAMILIES[name]
    assert main(["simulate", name, "--list-params"]) == 0
    out = capsys.readouterr().out
    for param in ("n", *STANDARD_PARAMETERS):
        assert f"  --{param.replace('_', '-')} (default" in out or param == "n", param
    for knob, (_, doc) in module.Config.knobs().items():
        assert f"--{knob.replace('_', '-')} (default" in out, knob
        assert doc.split("(")[0].strip() in out, knob


def test_simulate_without_out_prints_the_summary(capsys):
    assert main(["simulate", "raft", "--n", "3", "--duration", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "saved" not in out and "messages" in out and "ops_ok" in out


def test_simulate_check_prints_the_verdict_and_exits_1_on_a_violation(capsys, monkeypatch):
    assert main(["simulate", "raft", "--n", "3", "--duration", "0.5", "--check"]) == 0
    assert "properties hold" in capsys.readouterr().out
    violated = Verdict(["agreement"], [{"property": "agreement", "time": 0.1,
                                        "nodes": ("n1",), "detail": "made up"}])
    monkeypatch.setattr(FAMILIES["raft"], "check", lambda run: violated)
    assert main(["simulate", "raft", "--n", "3", "--duration", "0.5", "--check"]) == 1
    assert "agreement" in capsys.readouterr().out


def test_sweep_with_a_failing_cell_prints_its_error_and_exits_1(spec, capsys):
    (spec.parent / "expmod_broken.py").write_text(MODULE + textwrap.dedent("""
        def broken(n, timeout, seed):
            if n == 5:
                raise RuntimeError(f"cell exploded at n={n}")
            return {"ok": 1}
    """))
    spec.write_text(SPEC.replace("expmod:cell", "expmod_broken:broken"))
    assert main(["sweep", str(spec), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "4 rows, 2 failed cells" in captured.out
    assert "cell exploded at n=5" in captured.err and "n=5" in captured.err


def test_simulate_takes_faults_latency_loss_and_bugs(capsys):
    status = main(["simulate", "raft", "--n", "3", "--duration", "2", "--seed", "1",
                   "--nemesis", "crash=0.5,partition=0.3,max_crashed=1", "--latency",
                   "uniform:4,6", "--loss", "0.01", "--bugs", "no_up_to_date_check", "--check"])
    out = capsys.readouterr().out
    assert status in (0, 1) and "faults" in out
    assert "All" in out or "violation" in out


def test_nemesis_spec_file(tmp_path):
    from dsalgo.cli import parse_nemesis

    spec = tmp_path / "chaos.toml"
    spec.write_text("[nemesis]\ncrash = 0.5\npause = 0.2\nmean_duration = 0.3\n")
    assert parse_nemesis(str(spec)).rates() == {"crash": 0.5, "partition": 0.0, "pause": 0.2,
                                                 "clock_jump": 0.0}


def test_nemesis_whole_number_keys_stay_integers():
    from dsalgo.cli import parse_nemesis

    nem = parse_nemesis("crash_point=2,crash_point_after=2,max_crashed=1")
    assert nem.crash_point_after == 2 and isinstance(nem.crash_point_after, int)
    assert nem.max_crashed == 1 and nem.crash_point == 2.0


@pytest.mark.parametrize("args, message", [
    (["--nemesis", "crash"], "--nemesis takes KIND=RATE pairs"),
    (["--nemesis", "crash=lots"], "the value must be a number"),
    (["--nemesis", "crash_point=1,crash_point_after=1.5"], "must be a whole number"),
    (["--nemesis", "targets=n1"], "targets takes a list"),
    (["--nemesis", "meteor=1"], "--nemesis has no key 'meteor'"),
    (["--nemesis", "missing.toml"], "does not exist"),
    (["--latency", "gauss:3"], "--latency must be KIND:MS"),
    (["--latency", "uniform:3"], "--latency uniform takes 2 number(s)"),
    (["--loss", "1.5"], "--loss must be a probability"),
    (["--bugs", "no_such_bug"], "--bugs: 'no_such_bug' is not a bug of this family"),
    (["--faults", "x"], "give faults with --nemesis"),
])
def test_simulate_fault_latency_and_bug_errors_are_one_line(args, message, capsys):
    assert main(["simulate", "raft", "--duration", "0.1", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--timeout", "-5"], "--timeout must be a number of seconds > 0; got -5.0"),
    (["--timeout", "nan"], "--timeout must be a number of seconds > 0"),
    (["--workers", "0"], "--workers must be an integer >= 1; got 0"),
    (["--notebooks", "/no/such/folder"], "--notebooks must be an existing folder"),
])
def test_report_checks_its_arguments_before_running_anything(args, message, capsys,
                                                             tmp_path):
    out = tmp_path / "reports"
    assert main(["report", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()   # nothing ran, nothing written


def test_report_out_must_not_be_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["report", "--out", str(f)]) == 2
    assert "--out must be a folder" in capsys.readouterr().err


def test_report_prints_each_notebook_as_it_finishes(tmp_path, capsys):
    import json

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "quick = False",
            "outputs": [], "execution_count": None}
    meta = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    (nbs / "one.ipynb").write_text(json.dumps({"cells": [cell], "metadata": meta,
                                               "nbformat": 4, "nbformat_minor": 5}))
    assert main(["report", "--quick", "--notebooks", str(nbs), "--out",
                 str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "ok" and lines[0].endswith("one.ipynb  (one)")
    assert lines[-1].startswith("1/1 notebooks ok")

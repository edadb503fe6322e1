"""Review fixes for dsalgo.histories: malformed EDN times name the file and the line."""

import pytest

from dsalgo.histories import read_edn


def _write(tmp_path, text):
    p = tmp_path / "h.edn"
    p.write_text(text)
    return p


def test_non_numeric_time_names_file_and_line(tmp_path):
    p = _write(tmp_path, '{:process 0, :type :invoke, :f :put, :value 1, :time "abc"}\n')
    with pytest.raises(ValueError, match=r"h\.edn, line 1: expected :time to be a finite "
                                         r"number of nanoseconds; got 'abc'"):
        read_edn(p)


def test_mixing_time_and_line_numbers_is_rejected(tmp_path):
    # before the fix the invoke got t = 1.0 (a line number) and the completion t = 5e-9 s
    p = _write(tmp_path, "{:process 0, :type :invoke, :f :put, :value 1}\n"
                         "{:process 0, :type :ok, :f :put, :value 1, :time 5}\n")
    with pytest.raises(ValueError, match=r"h\.edn, line 2: expected every event to have a "
                                         r":time or none to"):
        read_edn(p)


def test_completion_before_its_invocation_is_rejected(tmp_path):
    p = _write(tmp_path, "{:process 0, :type :invoke, :f :put, :value 1, :time 5000}\n"
                         "{:process 0, :type :ok, :f :put, :value 1, :time 10}\n")
    with pytest.raises(ValueError, match=r"h\.edn, line 2: .*from line 1 at the later time"):
        read_edn(p)


def test_consistent_times_still_read(tmp_path):
    p = _write(tmp_path, "{:process 0, :type :invoke, :f :put, :value 1, :time 1000}\n"
                         "{:process 0, :type :ok, :f :put, :value 1, :time 3000}\n")
    h = read_edn(p)
    assert h[["t_invoke", "t_complete"]].values.tolist() == [[1e-6, 3e-6]]

"""Live tests: real servers, one serial pytest process, never skipped in CI.

Under pytest-xdist these modules are not collected at all (``make test`` runs them in a
second, serial pytest call): they start real processes and bind ports, and their timings
must not compete with other workers.  Outside CI a missing server or client library skips
with the install hint; in CI (``CI`` set) it fails.
"""

import os

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    collect_ignore_glob = ["test_*.py"]


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.live)


def need(system: str):
    """Skip (outside CI) or fail (in CI) when ``system`` cannot run here."""
    from dsalgo import live

    module = {"redis": "redis", "zookeeper": "kazoo", "etcd": None}[system]
    try:
        live.require(system)
        if module:
            __import__(module)
    except (live.LiveUnavailable, ImportError) as e:
        msg = (f"{e} (Python clients: pip install -e '.[live]')"
               if isinstance(e, ImportError) else str(e))
        if os.environ.get("CI"):
            pytest.fail(f"live tests must run in CI: {msg}")
        pytest.skip(msg)


@pytest.fixture(autouse=True)
def no_leaked_process():
    """Every test leaves no server process behind."""
    from dsalgo import live

    yield
    left = live.live_processes()
    assert not left, f"server processes left running: {left}"

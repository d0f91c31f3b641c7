"""crmn_legacy._cli and the command lines that use it: ``fetch`` and the repro scripts report bad input in one line.

(``train`` and ``evaluate``: tests/training/test_cli_errors.py.)
"""

import dataclasses
import pathlib
import subprocess
import sys

import pytest

from crmn_legacy import _cli
from crmn_legacy.datasets import fetch, registry

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_parser_errors_and_failures_are_one_line(one_line_error, capsys):
    p = _cli.ArgumentParser(prog="prog")
    p.add_argument("--n", type=_cli.positive_int)
    assert "prog: error: argument --n: need a whole number >= 1, got '0' (see --help)" == \
        one_line_error(p.parse_args, ["--n", "0"])
    assert p.parse_args(["--n", "3"]).n == 3
    assert _cli.fail("prog", "first line\n  second line\n") == 2
    assert capsys.readouterr().err == "prog: error: first line second line\n"


@pytest.fixture
def offline_cifar10(monkeypatch, tmp_path):
    """CIFAR-10 registered with a source that cannot be reached, so no test touches the network."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    source = tmp_path / "server" / "cifar-10-python.tar.gz"
    registry._REGISTRY["cifar10"] = dataclasses.replace(registry.get("cifar10"), sources=(source.as_uri(),))
    return source


def test_fetch_bad_options_and_files(one_line_error, tmp_path, offline_cifar10):
    assert "invalid choice: 'mnist'" in one_line_error(fetch.main, ["mnist"])
    assert "--timeout must be > 0" in one_line_error(fetch.main, ["cifar10", "--timeout", "0"])
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert "cannot create the data folder" in one_line_error(fetch.main, ["cifar10", "--data-dir",
                                                                                   str(blocker)])
    line = one_line_error(fetch.main, ["cifar10", "--data-dir", str(tmp_path / "data")])
    assert "cannot download" in line and "by hand" in line


def test_fetch_on_a_full_disk_keeps_the_file_there(one_line_error, tmp_path, offline_cifar10, full_disk):
    offline_cifar10.parent.mkdir()
    offline_cifar10.write_bytes(b"new archive bytes" * 1000)
    data = tmp_path / "data"
    data.mkdir()
    (data / "cifar-10-python.tar.gz").write_bytes(b"an older copy")
    full_disk(fetch)
    line = one_line_error(fetch.main, ["cifar10", "--data-dir", str(data)])
    assert "No space left on device" in line
    assert sorted(p.name for p in data.iterdir()) == ["cifar-10-python.tar.gz"]
    assert (data / "cifar-10-python.tar.gz").read_bytes() == b"an older copy"


def _repro(*argv):
    return subprocess.run([sys.executable, str(REPO / "repro" / "table3.py"), *argv], capture_output=True, text=True,
                          cwd=REPO, timeout=900)


@pytest.mark.parametrize("argv, says", [
    (["--only", "nosuch"], "unknown row(s) ['nosuch']"),
    (["--budget", "lavish"], "invalid choice: 'lavish'"),
])
def test_repro_bad_options(argv, says):
    out = _repro(*argv)
    err = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(err) == 1 and says in err[0] and "Traceback" not in out.stderr, out.stderr


def test_repro_bad_files_end_in_one_line(tmp_path):
    """A missing data file and a results folder that is a file: the run ends with one error line, exit 1."""
    common = ["--budget", "smoke", "--only", "crmn-56-k3", "--no-results-md"]
    out = _repro(*common, "--dataset-file", str(tmp_path / "missing.h5"), "--results-dir", str(tmp_path / "res"))
    errors = [line for line in out.stderr.splitlines() if ": error: " in line]
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert len(errors) == 1 and "missing.h5" in errors[0], out.stderr
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = _repro(*common, "--dataset-file", str(tmp_path / "missing.h5"), "--results-dir", str(blocker))
    errors = [line for line in out.stderr.splitlines() if ": error: " in line]
    assert out.returncode == 1 and "Traceback" not in out.stderr and len(errors) == 1, out.stderr
    assert blocker.read_text() == "x"

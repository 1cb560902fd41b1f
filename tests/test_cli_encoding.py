"""Encodings of ``python -m skcoinmix fit``: what it reads and what it prints.

Standard input is read as a file is (UTF-8 bytes, a byte-order mark
skipped, whatever the locale), and what standard output or error cannot
encode is escaped, not a traceback.
"""

import codecs
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skcoinmix.cli import main
from skcoinmix.cli._csv import DataError, read_table
from skcoinmix.datasets import make_bernoulli_mixture

#: The repository root, first on the subprocesses' PYTHONPATH.
REPO_ROOT = Path(__file__).resolve().parents[1]

#: A column name that cp1252 (a Windows console) cannot encode, and how
#: the command writes it there.
JAPANESE = "日本"
ESCAPED = "\\u65e5\\u672c"

PROG = "python -m skcoinmix fit"


def csv_bytes(columns, newline="\n", n_samples=60):
    """Two classes of 0/1 answers as UTF-8 CSV, without a byte-order mark."""
    means = [[0.9, 0.8, 0.2], [0.1, 0.3, 0.9]]
    X, _ = make_bernoulli_mixture(n_samples, [0.5, 0.5], means, random_state=0)
    lines = [",".join(columns)] + [",".join(map(str, row)) for row in X]
    return newline.join([*lines, ""]).encode("utf-8")


def fit_args(data, *extra):
    return [
        "fit",
        data,
        "--n-components",
        "2",
        "--n-init",
        "2",
        "--random-state",
        "0",
        *extra,
    ]


def run_all(runs, cwd, timeout=300):
    """``python -m skcoinmix`` per ``name: (args, stdin bytes, env)``, in parallel.

    Returns ``name: (returncode, stdout bytes, stderr bytes)``: decoded by the
    tests, with the encoding each run was given.
    """
    processes = {}
    for name, (args, stdin, extra_env) in runs.items():
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        env.pop("PYTHONIOENCODING", None)
        env.update(extra_env)
        processes[name] = (
            subprocess.Popen(
                [sys.executable, "-m", "skcoinmix", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
            ),
            stdin,
        )
    results = {}
    for name, (process, stdin) in processes.items():
        out, err = process.communicate(stdin, timeout=timeout)
        results[name] = (process.returncode, out, err)
    return results


#: Excel's "CSV UTF-8": a byte-order mark and CRLF line breaks.
EXCEL = codecs.BOM_UTF8 + csv_bytes(["a", "b", "c"], newline="\r\n")
#: Latin-1 text: the é of line 3 is byte 0xe9, not UTF-8.
LATIN1 = b"a,b\n0,1\n1,\xe9\n0,0\n"
#: A column that cp1252 cannot encode; NOT_BINARY: its cell on line 3 is 2.
JAPANESE_CSV = csv_bytes([JAPANESE, "b", "c"])


def _not_binary():
    lines = JAPANESE_CSV.split(b"\n")
    lines[2] = b"2" + lines[2][1:]
    return b"\n".join(lines)


NOT_BINARY = _not_binary()
CP1252 = {"PYTHONIOENCODING": "cp1252"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_encoding")
    files = {"excel": EXCEL, "latin1": LATIN1, "japanese": JAPANESE_CSV}
    for name, data in files.items():
        (folder / f"{name}.csv").write_bytes(data)
    (folder / "not_binary.csv").write_bytes(NOT_BINARY)
    return run_all(
        {
            "stdin_excel": ([*fit_args("-"), "--json"], EXCEL, {}),
            "file_excel": ([*fit_args("excel.csv"), "--json"], b"", {}),
            "stdin_latin1": (fit_args("-"), LATIN1, {}),
            "file_latin1": (fit_args("latin1.csv"), b"", {}),
            # PYTHONIOENCODING sets standard input's encoding too: the data
            # must still be read as UTF-8.
            "stdin_japanese_cp1252": ([*fit_args("-"), "--json"], JAPANESE_CSV, CP1252),
            "text_cp1252": (fit_args("japanese.csv"), b"", CP1252),
            "json_cp1252": ([*fit_args("japanese.csv"), "--json"], b"", CP1252),
            # Named: under --model auto, a 2 is a category.
            "error_cp1252": (
                [*fit_args("not_binary.csv"), "--model", "bernoulli"],
                b"",
                CP1252,
            ),
            "argparse_cp1252": (
                ["fit", "japanese.csv", "--n-components", JAPANESE],
                b"",
                CP1252,
            ),
        },
        folder,
    )


def assert_success(result):
    returncode, _, err = result
    assert returncode == 0, err.decode("utf-8", "replace")
    assert b"Traceback" not in err


def assert_refused(result):
    """Exit status 2, one error line, nothing on standard output."""
    returncode, out, err = result
    assert b"Traceback" not in err, err.decode("utf-8", "replace")
    assert returncode == 2
    assert out == b""
    return err.decode("ascii")  # the messages are escaped to ASCII here


# ------------------------------------------------------------ subprocess
def test_stdin_skips_the_byte_order_mark_as_a_file_does(runs):
    for name in ("stdin_excel", "file_excel"):
        assert_success(runs[name])
    stdin = json.loads(runs["stdin_excel"][1])
    assert stdin["item_labels"] == ["a", "b", "c"]
    # The same bytes, the same seed, the same arithmetic: equal reports.
    assert stdin == json.loads(runs["file_excel"][1])


def test_stdin_refuses_bytes_that_are_not_utf8_as_a_file_does(runs):
    message = "line 3 is not UTF-8 text (byte 0xe9). Save the file as UTF-8 CSV."
    assert assert_refused(runs["stdin_latin1"]) == (
        f"{PROG}: error: cannot read standard input: {message}\n"
    )
    assert assert_refused(runs["file_latin1"]) == (
        f"{PROG}: error: cannot read 'latin1.csv': {message}\n"
    )


def test_stdin_is_utf8_whatever_pythonioencoding_says(runs):
    assert_success(runs["stdin_japanese_cp1252"])
    labels = json.loads(runs["stdin_japanese_cp1252"][1])["item_labels"]
    assert labels == [JAPANESE, "b", "c"]


def test_text_report_escapes_what_stdout_cannot_encode(runs):
    assert_success(runs["text_cp1252"])
    out = runs["text_cp1252"][1].decode("cp1252")
    lines = out.splitlines()
    # The report up to the bivariate residuals (whose pairs name items too).
    end = next(
        (i for i, line in enumerate(lines) if line.startswith("Largest bivariate")),
        len(lines),
    )
    rows = [line.split() for line in lines[:end]]
    # One row of item-response probabilities per item, the first named by
    # its escapes and followed by a probability per class.
    row = next(row for row in rows if row and row[0] == ESCAPED)
    assert len(row) == 3
    assert all(0 <= float(p) <= 1 for p in row[1:])
    assert [r[0] for r in rows if r and r[0] in ("b", "c")] == ["b", "c"]


def test_json_report_under_cp1252(runs):
    assert_success(runs["json_cp1252"])
    report = json.loads(runs["json_cp1252"][1].decode("cp1252"))
    assert report["item_labels"] == [JAPANESE, "b", "c"]


def test_error_messages_escape_what_stderr_cannot_encode(runs):
    # Python's own standard error escapes (test_main_escapes_... checks a
    # strict one): the messages must come out whole, status 2.
    err = assert_refused(runs["error_cp1252"])
    assert err.startswith(
        f"{PROG}: error: column '{ESCAPED}' is not binary: found '2' (line 3)."
    )
    err = assert_refused(runs["argparse_cp1252"])
    assert err.rstrip().endswith(f"got '{ESCAPED}'")


# ------------------------------------------------------------ in-process
def test_read_table_stdin_decodes_the_bytes_beneath():
    # What sys.stdin is: a text layer whose own decoding would keep the mark.
    raw = io.BytesIO(codecs.BOM_UTF8 + b"a,b\r\n0,1\r\n1,0\r\n")
    stdin = io.TextIOWrapper(raw, encoding="utf-8")
    table = read_table("-", stdin=stdin)
    assert table.columns == ("a", "b")
    assert table.lines == (2, 3)
    assert not stdin.closed  # standard input is the caller's to close


@pytest.mark.parametrize("stdin", [io.BytesIO, io.StringIO])
def test_read_table_stdin_binary_or_decoded_text(stdin):
    data = "\ufeffa,b\n0,1\n1,0\n"
    if stdin is io.BytesIO:
        data = data.encode("utf-8")
    assert read_table("-", stdin=stdin(data)).columns == ("a", "b")


def test_read_table_stdin_refuses_bytes_that_are_not_utf8():
    stdin = io.TextIOWrapper(io.BytesIO(LATIN1), encoding="utf-8")
    with pytest.raises(DataError, match=r"standard input: line 3 is not UTF-8"):
        read_table("-", stdin=stdin)


def test_read_table_names_the_line_of_a_bad_byte_far_in(tmp_path):
    # Beyond the first chunk that a decoding stream reads (8 KiB): its error
    # positions count from the chunk's start.
    path = tmp_path / "long.csv"
    path.write_bytes(b"a,b\n" + b"0,1\n" * 5000 + b"1,\xe9\n")
    with pytest.raises(DataError, match=r"'\S+long.csv': line 5002 is not UTF-8"):
        read_table(str(path))


def test_read_table_without_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(DataError, match="cannot read standard input: there is none"):
        read_table("-")


@pytest.mark.parametrize("data", ["japanese", "not_binary"])
def test_main_escapes_and_restores_the_error_handlers(data, tmp_path, monkeypatch):
    path = tmp_path / f"{data}.csv"
    path.write_bytes(JAPANESE_CSV if data == "japanese" else NOT_BINARY)
    streams = {
        name: io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
        for name in ("stdout", "stderr")
    }
    for name, stream in streams.items():
        monkeypatch.setattr(sys, name, stream)
    model = ["--model", "bernoulli"]  # under auto, a 2 is a category
    assert main([*fit_args(str(path)), *model]) == (0 if data == "japanese" else 2)
    written = {}
    for name, stream in streams.items():
        assert stream.errors == "strict"  # as it was, for the caller
        stream.flush()
        written[name] = stream.buffer.getvalue().decode("cp1252")
    # The report on stdout, or the message naming the column on stderr.
    assert ESCAPED in written["stdout" if data == "japanese" else "stderr"]

"""Reading and writing the CSV files of ``python -m skcoinmix fit``.

Small pure functions on text, with the standard library's :mod:`csv` module
(no pandas). Every problem with a file is a :class:`DataError` whose message
names the line or the column at fault, so that the command line can print it
without a traceback.

A data file has a header naming the columns, then one row per respondent (or
per response pattern, with a column of frequencies). What a cell may hold is
the model's :class:`ValueRule`: ``0`` or ``1`` (:data:`BINARY`, the default),
any number (:data:`NUMBERS`), or any category label (:data:`CATEGORIES`,
kept as labels rather than read as floats); an empty cell, ``NA`` or ``NaN``
(in any case) is a missing answer. Blank lines are skipped.

A file is read in two steps: :func:`read_records` checks its shape (header,
rows of as many cells) and keeps the cells as text, then
:func:`build_table` turns them into the data a model fits; in between,
:func:`accepts_every_item` lets ``--model auto`` look at the values.
"""

# SPDX-License-Identifier: BSD-3-Clause

import codecs
import csv
import io
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BINARY",
    "CATEGORIES",
    "MISSING_TOKENS",
    "NUMBERS",
    "DataError",
    "Records",
    "Table",
    "ValueRule",
    "accepts_every_item",
    "build_table",
    "category_values",
    "check_writable",
    "format_posteriors",
    "parse_records",
    "parse_table",
    "read_records",
    "read_table",
]

#: Cells that mean a missing answer, compared after stripping blanks and
#: lower-casing: empty, NA (R, poLCA) and NaN (pandas, numpy).
MISSING_TOKENS = frozenset({"", "na", "nan"})

#: At most this many offending values are quoted per column.
MAX_SHOWN_VALUES = 5


class DataError(ValueError):
    """A data file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Table:
    """A parsed data file.

    Attributes
    ----------
    columns : tuple of str
        The names of the item columns, in file order (the weights column
        left out).
    X : ndarray of shape (n_rows, n_items), float64 or object
        The values, NaN for a missing answer; with a rule that keeps
        categories (:data:`CATEGORIES`), an object array of the values of
        :func:`category_values`, None for a missing answer.
    weights : ndarray of shape (n_rows,) or None
        The frequencies of the weights column, if one was named.
    weights_column : str or None
        Its name.
    lines : tuple of int
        The line of the file where each row starts (1 is the first line).
    """

    columns: tuple
    X: np.ndarray
    weights: np.ndarray | None
    weights_column: str | None
    lines: tuple

    @property
    def n_missing(self):
        """The number of missing answers (NaN or None cells)."""
        if self.X.dtype == object:
            return int(np.equal(self.X, None).sum())
        return int(np.isnan(self.X).sum())


# ------------------------------------------------------------------ cells
def parse_cell(text):
    """A cell's value: a float, NaN when missing.

    Parameters
    ----------
    text : str

    Returns
    -------
    value : float or None
        NaN for a missing answer; None when the cell is not a finite number.
    """
    text = text.strip()
    if text.lower() in MISSING_TOKENS:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_binary(value):
    return value is not None and (math.isnan(value) or value in (0.0, 1.0))


def _is_number(value):
    return value is not None


@dataclass(frozen=True)
class ValueRule:
    """Which cells an item column may hold, and what to say about the others.

    Attributes
    ----------
    accepts : callable
        ``accepts(value) -> bool`` for a cell as :func:`parse_cell` reads it:
        a float, NaN when missing, None when not a finite number.
    problem : str
        The message about a column with other values: a format string with
        the fields ``name`` (the column's name) and ``found`` (the values
        and their lines).
    hint : str, default=""
        What the user can do about it (recode, an option), appended.
    categories : bool, default=False
        Whether the cells are category labels, kept by
        :func:`category_values`, rather than read as floats.
    """

    accepts: Callable[[float | None], bool]
    problem: str
    hint: str = ""
    categories: bool = False


#: 0/1 answers, or missing.
BINARY = ValueRule(
    _is_binary,
    "column {name!r} is not binary: found {found}. Values must be 0 or 1, with "
    "an empty cell, NA or NaN for a missing answer.",
)

#: Any finite number, or missing.
NUMBERS = ValueRule(
    _is_number,
    "column {name!r} has values that are not numbers: {found}. Use numbers, or "
    "an empty cell, NA or NaN for a missing answer.",
)


#: Any label: numbers by value, other text as written (see category_values).
CATEGORIES = ValueRule(lambda value: True, "", categories=True)


def _category_number(text):
    """A cell's number as a category: an int when whole, a float otherwise.

    Whole numbers become ints so that ``1`` and ``1.0`` are one category,
    printed ``1``; digits are read as an int first, exactly however many
    there are.
    """
    try:
        return int(text)
    except ValueError:
        value = float(text)  # parse_cell read it already
        return int(value) if value.is_integer() else value


def category_values(texts):
    """One column's cells as the categories a model of categories fits.

    Parameters
    ----------
    texts : sequence of str
        The cells of the column.

    Returns
    -------
    values : list of int, float, str or None
        None for a missing cell (empty, NA, NaN: :data:`MISSING_TOKENS`).
        When every other cell is a finite number, the numbers (ints when
        whole), so that they sort by value: ``2`` before ``10``. Otherwise
        every cell is a label, its text as written with the blanks around it
        stripped (``"1"`` and ``"1.0"`` are then two labels).
    """
    stripped = [text.strip() for text in texts]
    # Each distinct cell is read once: a column holds few.
    observed = {text for text in stripped if text.lower() not in MISSING_TOKENS}
    if all(parse_cell(text) is not None for text in observed):
        value_of = {text: _category_number(text) for text in observed}
    else:
        value_of = {text: text for text in observed}
    return [value_of.get(text) for text in stripped]  # None: missing


def _quote_values(found):
    """``'2' (line 4), 'yes' (line 9)`` from ``{text: first line}``."""
    shown = [f"{text!r} (line {line})" for text, line in found[:MAX_SHOWN_VALUES]]
    more = len(found) - MAX_SHOWN_VALUES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _separator_hint(texts):
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if any(separator in text for text in texts):
            return f" The file seems to be separated by {name}: only commas are read."
    return ""


# ------------------------------------------------------------------ parsing
def _records(lines):
    """``(first line, cells)`` of the non-blank records of CSV text."""
    reader = csv.reader(lines)
    start = 1  # a record may span lines (a quoted line break): name its first
    try:
        for cells in reader:
            if len(cells) > 1 or (cells and cells[0].strip()):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"line {start}: not valid CSV ({exc}).") from None


def _check_header(line, header):
    """The stripped column names; a DataError when they cannot name columns.

    A header of numbers and missing cells (``0,1,1``, or category codes and
    counts such as ``3,5,2``) is taken for a data row: the file has no
    header.
    """
    names = [name.strip() for name in header]
    values = [parse_cell(name) for name in names]
    if all(_is_number(value) for value in values) and not all(
        math.isnan(value) for value in values
    ):
        raise DataError(
            f"line {line} ({','.join(header)!r}) looks like data, not a header: "
            "the first line must name the columns, e.g. 'item1,item2,item3' "
            "(a first line of numbers only is taken for data)."
        )
    seen = {}
    for position, name in enumerate(names, start=1):
        if not name:
            raise DataError(
                f"column {position} has no name in the header (line {line}): "
                "every column needs one."
            )
        if name in seen:
            raise DataError(
                f"the column name {name!r} appears twice in the header (line "
                f"{line}), as columns {seen[name]} and {position}: names must be "
                "unique."
            )
        seen[name] = position
    return names


def _weights(names, rows, weights_column):
    """The weights column's index and values; a DataError on a bad value."""
    if weights_column not in names:
        raise DataError(
            f"no column named {weights_column!r} for --weights-column; the "
            f"columns are {', '.join(map(repr, names))}."
        )
    index = names.index(weights_column)
    weights = np.empty(len(rows))
    for i, (line, cells) in enumerate(rows):
        text = cells[index]
        value = parse_cell(text)
        if value is None or math.isnan(value) or value < 0:
            problem = (
                "is missing"
                if value is not None and math.isnan(value)
                else f"is {text.strip()!r}, not a non-negative number"
            )
            raise DataError(
                f"line {line}: the weight in column {weights_column!r} {problem}."
            )
        weights[i] = value
    if not np.any(weights > 0):  # their sum may overflow
        raise DataError(
            f"the weights in column {weights_column!r} are all zero: at least "
            "one row needs a positive weight."
        )
    return index, weights


def _column_problems(name, texts, values, row_lines, rule):
    """The messages about one column (values ``rule`` refuses), empty if none."""
    bad = {}
    for text, value, line in zip(texts, values, row_lines, strict=True):
        if not rule.accepts(value):
            bad.setdefault(text.strip(), line)
    if not bad:
        return []
    found = _quote_values(list(bad.items()))
    return [
        rule.problem.format(name=name, found=found) + rule.hint + _separator_hint(bad)
    ]


@dataclass(frozen=True)
class Records:
    """The cells of a data file, as text, checked for shape.

    Attributes
    ----------
    names : tuple of str
        The column names of the header, stripped.
    rows : tuple of (int, list of str)
        Each data row: the line where it starts and its cells, as many as
        there are names.
    source : str
        How to name the data in messages.
    """

    names: tuple
    rows: tuple
    source: str

    def item_indices(self, weights_column=None):
        """The positions of the item columns: all but ``weights_column``."""
        return [j for j, name in enumerate(self.names) if name != weights_column]


def parse_records(lines, source="the file"):
    """Parse CSV text into :class:`Records`: the header and the rows, as text.

    Parameters
    ----------
    lines : iterable of str
        The text, e.g. an open file (opened with ``newline=""``) or
        ``text.splitlines(keepends=True)``.
    source : str, default="the file"
        How to name the data in messages.

    Returns
    -------
    records : Records

    Raises
    ------
    DataError
        If there is no header or no data row, the header looks like data, a
        column name is empty or repeated, or a row has more or fewer cells
        than the header.
    """
    records = _records(lines)
    first = next(records, None)
    if first is None:
        raise DataError(
            f"{source} is empty: it needs a header naming the columns, then one "
            "row per respondent (or per response pattern)."
        )
    names = _check_header(*first)
    if len(names) == 1 and _separator_hint(names):
        # Any text is a category label: a file of another separator would
        # be read as one column of labels.
        raise DataError(
            f"the header (line {first[0]}) names a single column, {names[0]!r}."
            + _separator_hint(names)
        )
    rows = list(records)
    if not rows:
        raise DataError(f"{source} has a header but no data rows.")
    for line, cells in rows:
        if len(cells) != len(names):
            raise DataError(
                f"line {line} has {len(cells)} cell{'s' if len(cells) != 1 else ''} "
                f"but the header has {len(names)} columns." + _separator_hint(cells)
            )
    return Records(tuple(names), tuple(rows), source)


def accepts_every_item(records, values, weights_column=None):
    """Whether ``values`` accepts every cell of every item column.

    Parameters
    ----------
    records : Records
    values : ValueRule
    weights_column : str, default=None
        A column that is no item.

    Returns
    -------
    accepted : bool
    """
    verdicts = {}  # by text: a file holds few distinct cells
    for j in records.item_indices(weights_column):
        for _, cells in records.rows:
            text = cells[j]
            verdict = verdicts.get(text)
            if verdict is None:
                verdict = verdicts[text] = values.accepts(parse_cell(text))
            if not verdict:
                return False
    return True


def build_table(records, *, weights_column=None, values=BINARY):
    """The :class:`Table` a model fits, from the cells of a file.

    Parameters
    ----------
    records : Records
    weights_column : str, default=None
        The name of a column of frequencies (non-negative numbers, none
        missing), left out of the items.
    values : ValueRule, default=BINARY
        What the items may hold: 0 or 1 by default. With
        :data:`CATEGORIES`, the cells are kept as category labels
        (:func:`category_values`) in an object array.

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        If the weights column is missing or holds a bad value, an item holds
        a value that ``values`` refuses (every such column is named), or an
        item has no observed value among the rows with a positive weight.
    """
    names, rows, source = records.names, records.rows, records.source
    weights = None
    if weights_column is not None:
        _, weights = _weights(list(names), rows, weights_column)
    item_indices = records.item_indices(weights_column)
    if not item_indices:
        raise DataError(
            f"{source} has no item column besides the weights column "
            f"{weights_column!r}."
        )

    row_lines = [line for line, _ in rows]
    positive = np.ones(len(rows), dtype=bool) if weights is None else weights > 0
    X = np.empty((len(rows), len(item_indices)), object if values.categories else None)
    problems = []
    for column, j in enumerate(item_indices):
        texts = [cells[j] for _, cells in rows]
        if values.categories:
            X[:, column] = category_values(texts)
            missing = np.equal(X[:, column], None)
        else:
            parsed = [parse_cell(text) for text in texts]
            messages = _column_problems(names[j], texts, parsed, row_lines, values)
            if messages:
                problems += messages
                continue
            X[:, column] = parsed
            missing = np.isnan(X[:, column])
        if np.all(missing[positive]):
            where = (
                " among the rows with a positive weight" if weights is not None else ""
            )
            problems.append(
                f"column {names[j]!r} has no observed value{where}: every cell "
                "is missing. Drop the column."
            )
    if problems:
        raise DataError("\n".join(problems))
    return Table(
        columns=tuple(names[j] for j in item_indices),
        X=X,
        weights=weights,
        weights_column=weights_column,
        lines=tuple(row_lines),
    )


def parse_table(lines, *, weights_column=None, values=BINARY, source="the file"):
    """Parse CSV text into a :class:`Table`.

    :func:`parse_records`, then :func:`build_table`.

    Parameters
    ----------
    lines : iterable of str
        The text, e.g. an open file (opened with ``newline=""``) or
        ``text.splitlines(keepends=True)``.
    weights_column, values
        As in :func:`build_table`.
    source : str, default="the file"
        How to name the data in messages.

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        If :func:`parse_records` or :func:`build_table` refuses the text.
    """
    return build_table(
        parse_records(lines, source), weights_column=weights_column, values=values
    )


def _decode(data, source):
    """UTF-8 bytes as text, a leading byte-order mark dropped.

    Decoded whole, so that an error can name its line: a decoding stream
    reports positions within its last chunk only.
    """
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"cannot read {source}: line {line} is not UTF-8 text (byte "
            f"{exc.object[exc.start]:#04x}). Save the file as UTF-8 CSV."
        ) from None


def read_records(path, *, stdin=None):
    """Read a CSV file (``"-"``: standard input) into :class:`Records`.

    Standard input is read as a file is: its bytes are decoded as UTF-8, a
    byte-order mark skipped, whatever the locale's encoding.

    Parameters
    ----------
    path : str
    stdin : file, default=None
        What ``"-"`` reads, binary or text; None means ``sys.stdin`` (its
        bytes, ``sys.stdin.buffer``). A text stream without a ``buffer``
        (e.g. :class:`io.StringIO`) is taken as decoded already.

    Returns
    -------
    records : Records

    Raises
    ------
    DataError
        If the file cannot be opened or decoded (UTF-8; a byte-order mark is
        skipped), or :func:`parse_records` refuses it.
    """
    if path == "-":
        source = "standard input"
        stream = sys.stdin if stdin is None else stdin
        if stream is None:  # Python started without a file descriptor 0
            raise DataError("cannot read standard input: there is none.")
        stream = getattr(stream, "buffer", stream)
    else:
        source = repr(path)
    try:
        if path != "-":
            with open(path, "rb") as file:
                data = file.read()
        else:
            data = stream.read()
    except IsADirectoryError:
        raise DataError(f"cannot read {source}: it is a directory.") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(f"cannot read {source}: {reason}.") from None
    if isinstance(data, bytes):
        text = _decode(data, source)
    else:  # a text stream: decoded by its owner; only the mark is left
        text = data.removeprefix("\ufeff")
    # newline="": line breaks reach the csv module as they are, as it needs.
    return parse_records(io.StringIO(text, newline=""), source)


def read_table(path, *, weights_column=None, values=BINARY, stdin=None):
    """Read and parse a CSV file (``"-"``: standard input) into a :class:`Table`.

    :func:`read_records`, then :func:`build_table`.

    Parameters
    ----------
    path : str
    weights_column, values
        As in :func:`build_table`.
    stdin : file, default=None
        As in :func:`read_records`.

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        If :func:`read_records` or :func:`build_table` refuses the file.
    """
    return build_table(
        read_records(path, stdin=stdin), weights_column=weights_column, values=values
    )


# ------------------------------------------------------------------ output
def format_posteriors(resp):
    """The posterior probabilities and the modal class, as CSV text.

    Parameters
    ----------
    resp : ndarray of shape (n_rows, K)
        Posterior class probabilities.

    Returns
    -------
    text : str
        A header ``class_1,...,class_K,modal_class``, then one line per row:
        the probabilities (shortest exact repr) and the most probable class,
        numbered from 1 like the classes of the report.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    K = resp.shape[1]
    writer.writerow([*(f"class_{k}" for k in range(1, K + 1)), "modal_class"])
    for row, label in zip(resp, resp.argmax(axis=1), strict=True):
        writer.writerow([*(repr(float(p)) for p in row), int(label) + 1])
    return out.getvalue()


def check_writable(path, data_path=None):
    """A DataError unless ``path`` can be created: its folder must exist.

    Checked before fitting, so that a long fit is not lost to a typo; and
    ``path`` must not be the data file ``data_path``, which it would
    overwrite.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if (
        data_path is not None
        and os.path.exists(path)
        and os.path.exists(data_path)
        and os.path.samefile(path, data_path)
    ):
        raise DataError(
            f"--posteriors {path!r} is the data file: it would be overwritten."
        )
    if os.path.isdir(path):
        raise DataError(f"cannot write the posteriors to {path!r}: it is a directory.")
    if not os.path.isdir(folder):
        raise DataError(
            f"cannot write the posteriors to {path!r}: the folder {folder!r} does "
            "not exist."
        )

"""Plain-text tables, as both commands print them."""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["format_table"]


def format_table(header, rows, align):
    """Plain-text table with aligned columns and a rule under the header.

    Parameters
    ----------
    header : sequence of str
    rows : sequence of sequences of str
    align : str
        One character per column: ``"l"`` (left) or ``"r"`` (right).

    Returns
    -------
    table : str
    """
    cells = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]

    def line(row):
        parts = [
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])

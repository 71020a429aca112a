"""The committed benchmark results (``benchmarks/results/*``) in the Turkish report.

The files stay as the benchmarks print them, in English: one source of truth. The Turkish report
shows them through ``benchmark_text``, which puts the words of ``i18n`` (``BENCHMARK_LINES_TR``,
``BENCHMARK_WORDS_TR``, ``BENCHMARK_UNITS_TR``) in place of the English ones and writes numbers
the Turkish way, keeping fixed-width columns lined up:

    benchmark_text(item["text"], "tr")   # item from paper.benchmark_results()
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import pandas as pd

from . import i18n


def benchmark_text(text: str, language: str = "en") -> str:
    """A benchmark's result text (``benchmark_results``) in ``language``: English as it is; in
    Turkish each line of prose from ``i18n.BENCHMARK_LINES_TR``, the headers and cells of its
    tables from ``i18n.BENCHMARK_WORDS_TR``, fixed-width columns still lined up.

    A line of prose or a table header with no Turkish raises ``KeyError``, as ``i18n.t`` does: a
    new benchmark column or note cannot stay English in the Turkish report without a test noticing
    (``tests/test_report.py`` translates every committed result).
    """
    if i18n.check_language(language) == "en":
        return text
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            out.append(line)
        elif line.lstrip().startswith("|"):
            out.append(_markdown_row(line, header=i == 0 or not lines[i - 1].lstrip().startswith("|")))
        elif _prose_line(line) is not None:
            out.append(_prose_line(line))
        elif _is_table_header(line):
            end = i + 1
            while (end < len(lines) and lines[end].strip() and _prose_line(lines[end]) is None
                   and not _is_table_header(lines[end])):
                end += 1
            out += _fixed_width_table(lines[i:end])
            i = end
            continue
        else:
            raise KeyError(f"no Turkish for the benchmark line {line.strip()!r}: "
                           "add it to fer_helpers.i18n.BENCHMARK_LINES_TR")
        i += 1
    return "\n".join(out)


def _word(text: str) -> str:
    """A header or cell in Turkish; ``KeyError`` when there is none."""
    try:
        return i18n.BENCHMARK_WORDS_TR[text]
    except KeyError:
        raise KeyError(f"no Turkish for the benchmark column or cell {text!r}: "
                       "add it to fer_helpers.i18n.BENCHMARK_WORDS_TR") from None


@functools.lru_cache(maxsize=None)
def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)  # literal, name, literal, name, ...
    return re.compile("".join(re.escape(part) if k % 2 == 0 else f"(?P<{part}>.+?)" for k, part in enumerate(parts)))


def _prose_line(line: str) -> str | None:
    """A line of prose in Turkish (indent kept), or None when no template of i18n matches it."""
    body = line.lstrip()
    for english, turkish in i18n.BENCHMARK_LINES_TR.items():
        m = _template_regex(english).fullmatch(body)
        if m:
            values = {k: i18n.BENCHMARK_WORDS_TR.get(v, _number(v)) for k, v in m.groupdict().items()}
            return line[:len(line) - len(body)] + turkish.format(**values)
    return None


def _is_table_header(line: str) -> bool:
    """Whether ``line`` starts a fixed-width table: its first word opens one and it is no line of
    prose (``search ms: ...`` explains a column, it does not head a table)."""
    words = line.split()
    return bool(words) and words[0] in i18n.BENCHMARK_TABLE_STARTS and _prose_line(line) is None


def _units(cell: str) -> str:
    for english, turkish in i18n.BENCHMARK_UNITS_TR.items():
        cell = re.sub(rf"(?<![\w/]){re.escape(english)}(?![\w/])", turkish, cell)
    return cell


def _markdown_row(line: str, header: bool) -> str:
    """A markdown table row: the header row and the first column (row names) from the table of
    words (``KeyError`` when missing), the other cells with their units and numbers in Turkish."""
    cells = line.split("|")
    for k, cell in enumerate(cells[1:-1], start=1):
        value = cell.strip()
        if not value or set(value) <= set("-: "):
            continue
        if header or k == 1:
            cells[k] = cell.replace(value, _word(value))
        else:  # values: units and numbers (a code span or a file name as it is)
            turkish = re.sub(r"(?<![\w.])[+-]?\d+(?:[.,]\d+)*%?(?![\w.])", lambda n: _number(n.group()), _units(value))
            cells[k] = cell.replace(value, turkish)
    return "|".join(cells)


class _Column(NamedTuple):
    start: int   # of the English header
    end: int
    text: str    # the Turkish header
    left: bool   # its values start where it starts (text), else they end where it ends (numbers)


def _header_columns(header: str, first_row: str) -> list[_Column]:
    """The columns of a fixed-width header: each header is the longest English name of the table
    of words at that place (a photo's name keeps its size: ``astronaut 512``), or a number."""
    names = sorted(i18n.BENCHMARK_WORDS_TR, key=len, reverse=True)
    columns, i = [], 0
    while i < len(header):
        if header[i] == " ":
            i += 1
            continue
        rest = header[i:]
        size = re.match(r"\d+(?:x\d+)?(?= |$)", rest)
        name = None if size else next((n for n in names if re.match(re.escape(n) + r"(?= |$)", rest)), None)
        if size:
            end, text = i + size.end(), size.group()
        elif name is None:
            raise KeyError(f"no Turkish for the benchmark column {rest.split('  ')[0]!r}: "
                           "add it to fer_helpers.i18n.BENCHMARK_WORDS_TR")
        else:
            end, text = i + len(name), _word(name)
            sizes = re.match(r"(?: \d+(?:x\d+)?)+(?= |$)", header[end:])
            if sizes:
                end, text = end + sizes.end(), text + sizes.group()
        left = i < len(first_row) and first_row[i] != " " and (i == 0 or first_row[i - 1] == " ")
        columns.append(_Column(i, end, text, left))
        i = end
    return columns


def _fixed_width_table(rows: list[str]) -> list[str]:
    """A fixed-width table (header row, then value rows) with Turkish headers and cells, columns
    lined up: where a Turkish header needs more room than the English one had, spaces are put into
    every row at a gap all rows share, so the values move with their header."""
    header, values = rows[0], [_cells(row) for row in rows[1:]]
    columns = _header_columns(header, rows[1] if len(rows) > 1 else "")
    for k in range(len(columns) - 1, 0, -1):  # right to left: a widening moves only what is right of it
        before, this = columns[k - 1], columns[k]
        before_end = before.start + len(before.text) if before.left else before.end
        this_start = this.start if this.left else this.end - len(this.text)
        short = before_end + min(2, this.start - before.end) - this_start  # keep the English gap, at most 2
        if short <= 0:
            continue
        gap = next((p for p in range(this.start - 1, before.end - 1, -1)
                    if all(p >= len(v) or v[p] == " " for v in values)), None)
        if gap is not None:
            values = [v[:gap] + " " * short + v[gap:] if gap < len(v) else v for v in values]
            columns[k:] = [c._replace(start=c.start + short, end=c.end + short) for c in columns[k:]]
    line = ""
    for c in columns:
        start = max(c.start if c.left else c.end - len(c.text), len(line) + 1 if line else 0)
        text = c.text if c.left else c.text[:max(1, c.end - start)]  # no shared gap to widen: cut, not shift
        line = line.ljust(start) + text
    return [line] + values


def _cells(row: str) -> str:
    """A fixed-width table's row in Turkish, each cell where it was: cells of the table of words
    (names, descriptions, yes/no), a longer one taking the spaces after it but two; numbers with
    a decimal comma (same width)."""
    for m in reversed(list(re.finditer(r"\S+(?: \S+)*", row))):
        cell = m.group()
        turkish = i18n.BENCHMARK_WORDS_TR.get(cell, _number(cell))
        if turkish == cell:
            continue
        spaces = len(re.match(r" *", row[m.end():]).group())
        if m.end() + spaces == len(row):  # the last cell: nothing to keep in place after it
            row = row[:m.start()] + turkish
        else:
            width = len(cell) + spaces
            row = row[:m.start()] + turkish[:width - min(2, spaces)].ljust(width) + row[m.end() + spaces:]
    return row


_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?%?")


def _number(text: str) -> str:
    """A number as Turkish writes it (``3,137.5`` -> ``3.137,5``, ``97.7%`` -> ``%97,7``), ranges too
    (``1.604-1.912``), and a number with its unit (``9.8 ms`` -> ``9,8 ms``, ``22 frames/s`` ->
    ``22 kare/s``); anything else as it is."""
    unit = re.fullmatch(r"(\S+)(\s+[^\d\s]+)", text)
    if unit and all(_NUMBER.fullmatch(part) for part in re.split(r"(?<=\d)-(?=[+-]?\d)", unit.group(1))):
        return _number(unit.group(1)) + _units(unit.group(2))
    parts = re.split(r"(?<=\d)-(?=[+-]?\d)", text)
    if not all(_NUMBER.fullmatch(part) for part in parts):
        return text
    return "-".join(i18n.number_text(part, "tr") for part in parts)


# ---------------------------------------------------------------------------------------------
# The same text as a reader's blocks: prose and tables

def benchmark_blocks(text: str, language: str = "en") -> list:
    """A benchmark's result text in ``language`` as what a paper shows: paragraphs of prose
    (``str``, markdown) and its fixed-width tables as ``pandas.DataFrame`` (a markdown table stays
    markdown). The tables are found and cut into columns in the English text, where their first
    words are known (``i18n.BENCHMARK_TABLE_STARTS``), then their headers and cells translated one
    by one; prose comes from ``benchmark_text``, whose lines match the English ones one for one."""
    english, shown = text.splitlines(), benchmark_text(text, language).splitlines()
    blocks: list = []
    prose: list[str] = []

    def flush():
        if prose:
            blocks.append(" ".join(prose))
            prose.clear()

    i = 0
    while i < len(english):
        line = english[i]
        if not line.strip():
            flush()
            i += 1
        elif line.lstrip().startswith("|"):
            end = i
            while end < len(english) and english[end].lstrip().startswith("|"):
                end += 1
            flush()
            blocks.append("\n".join(ln.strip() for ln in shown[i:end]))
            i = end
        elif _is_table_header(line):
            end = i + 1
            while (end < len(english) and english[end].strip() and _prose_line(english[end]) is None
                   and not _is_table_header(english[end])):
                end += 1
            flush()
            blocks.append(_frame_in(fixed_width_frame(english[i:end]), language))
            i = end
        elif re.match(r"\d+\. ", line):  # a numbered table's title: a paragraph of its own, in bold
            flush()
            blocks.append(f"**{shown[i].strip()}**")
            i += 1
        else:  # a note: a paragraph of its own, its indented lines going on with it
            if not line[:1].isspace():
                flush()
            prose.append(shown[i].strip())
            i += 1
    flush()
    return blocks


def _frame_in(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """A benchmark table's headers and cells in ``language`` (``KeyError`` for a header with no Turkish)."""
    if language == "en":
        return frame

    def header(text: str) -> str:
        if not text or re.fullmatch(r"\d+(?:x\d+)?", text):
            return text
        if text in i18n.BENCHMARK_WORDS_TR:
            return _word(text)
        name, sizes = re.fullmatch(r"(.+?)((?: \d+(?:x\d+)?)*)", text).groups()
        return _word(name) + sizes

    def cell(text: str) -> str:
        return i18n.BENCHMARK_WORDS_TR.get(text, _number(_units(text)))

    return frame.rename(columns=header).apply(lambda column: column.map(cell))


def fixed_width_frame(rows: list[str]) -> pd.DataFrame:
    """A fixed-width table (header, then rows) as a DataFrame of strings. Columns are split where
    every row is blank and the value rows leave a gap of two or more: a header of two words over a
    number ("recall %") stays one column, and a description with single spaces stays one cell."""
    indent = min(len(r) - len(r.lstrip()) for r in rows if r.strip())
    rows = [r[indent:] for r in rows]
    width = max(len(r) for r in rows)
    rows = [r.ljust(width) for r in rows]
    blank_all = [all(r[p] == " " for r in rows) for p in range(width)]
    values = rows[1:] or rows
    blank_values = [all(r[p] == " " for r in values) for p in range(width)]
    wide = [False] * width  # inside a run of two or more positions blank in every value row
    p = 0
    while p < width:
        if blank_values[p]:
            q = p
            while q < width and blank_values[q]:
                q += 1
            if q - p >= 2 or p == 0:
                wide[p:q] = [True] * (q - p)
            p = q
        else:
            p += 1
    cuts, p = [], 0
    while p < width:
        if blank_all[p] and wide[p]:
            q = p
            while q < width and blank_all[q] and wide[q]:
                q += 1
            cuts.append((p, q))
            p = q
        else:
            p += 1
    edges = [0] + [q for _, q in cuts if q < width]
    starts_ends = [(start, next((p for p, _ in cuts if p >= start and p > 0), width)) for start in edges]
    table = [[r[a:b].strip() for a, b in starts_ends] for r in rows]
    header, body = table[0], table[1:]
    for k in range(len(header) - 1):  # a header word over no values belongs to the next column ("measured on")
        if header[k] and not any(row[k] for row in body):
            header[k + 1], header[k] = f"{header[k]} {header[k + 1]}".strip(), ""
    keep = [k for k in range(len(header)) if header[k] or any(row[k] for row in body)]
    return pd.DataFrame([[row[k] for k in keep] for row in body], columns=[header[k] for k in keep])

"""Reading uploaded CSV files the same way for every import (cases, units)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from surveys.errors import ValidationError


def check_columns(header: Iterable[str], required: Iterable[str]) -> None:
    """Refuse a file whose header lacks any of ``required``, naming them all."""
    missing = set(required) - set(header)
    if missing:
        raise ValidationError("file", f"缺少列：{', '.join(sorted(missing))}")


def read_csv_rows(data: bytes, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from UTF-8 CSV bytes (a BOM is fine); empty cells are ""."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("file", "文件不是 UTF-8 编码的 CSV") from exc
    reader = csv.DictReader(io.StringIO(text))
    check_columns(reader.fieldnames or [], required)
    for row in reader:
        yield reader.line_num, {k: (v or "") for k, v in row.items() if k is not None}

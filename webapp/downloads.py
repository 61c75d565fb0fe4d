"""Spreadsheet downloads, shared by the staff blueprints."""

from __future__ import annotations

from typing import IO

from flask import send_file
from werkzeug.wrappers import Response

from surveys.exports import XLSX_MIMETYPE


def xlsx_attachment(workbook: IO[bytes], name: str) -> Response:
    """``workbook`` as an .xlsx attachment named ``name``, never cached.

    Every export holds figures or citizens' comments of the user's scope; ``send_file``'s
    own ``no-cache`` would still let a browser keep a copy after logout.
    """
    download = send_file(workbook, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)
    download.headers["Cache-Control"] = "no-store"
    return download

"""Content fingerprints on static URLs, so browsers keep the assets for a year.

A citizen opens the survey on a cheap phone over 2G/3G, where every request for the
stylesheet or script, even a revalidation answered by 304, is a round trip the page waits
for. ``url_for("static", filename=…)`` therefore adds ``?v=`` and the first 10 hex digits
of the SHA-256 of the file (a ``url_defaults`` callback, so every template and every URL
built in Python gets it unchanged), and the static view answers a request whose ``v`` is
the file's fingerprint with ``public, max-age=31536000, immutable``: the browser never
asks again. A changed file has a new fingerprint, hence a new URL, so no one is served a
stale copy. Any other request (no ``v``, or a ``v`` from a page rendered before a
deployment or by another host mid-way through a rolling one) keeps Flask's ``no-cache``
with an ETag: old pages still get the file, and the browser checks it each time.

Each fingerprint is computed at its file's first use and kept for the life of the
process: no request hashes or reads a file to build a URL, and the survey page builds its
URLs once per process anyway (``webapp.citizen.views``). A file replaced under a running
process keeps its old fingerprint until the process restarts, as every deployment does.
The HTML pages keep ``no-store`` (``webapp.security``): only the assets are cached.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

#: The query argument that carries the fingerprint.
VERSION_ARG = "v"
FINGERPRINT_HEX_DIGITS = 10
IMMUTABLE_MAX_AGE_SECONDS = 365 * 24 * 3600
_EXTENSION_KEY = "static_fingerprints"


def _file_fingerprint(static_folder: str | None, filename: str) -> str | None:
    """The first hex digits of the SHA-256 of a static file, or None if there is no such file."""
    path = safe_join(static_folder, filename) if static_folder else None
    if path is None or not Path(path).is_file():
        return None
    with Path(path).open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:FINGERPRINT_HEX_DIGITS]


def fingerprint(filename: str) -> str | None:
    """The current app's fingerprint of a static file, computed once per process.

    A missing file is remembered as None (its URL carries no version). The names come
    from our own templates and code, or from requests for files that exist, so the cache
    holds at most one entry per file.
    """
    cache: dict[str, str | None] = current_app.extensions[_EXTENSION_KEY]
    try:
        return cache[filename]
    except KeyError:
        found = cache[filename] = _file_fingerprint(current_app.static_folder, filename)
        return found


def _add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    """``url_defaults`` callback: a static URL gets its file's fingerprint, unless given one."""
    if endpoint != "static" or VERSION_ARG in values:
        return
    found = fingerprint(values.get("filename", ""))
    if found is not None:
        values[VERSION_ARG] = found


def serve_static(filename: str) -> Response:
    """Flask's static view, cached for good when the URL names the file's current content.

    The file is looked up first, so a name that is not a file is a 404 before anything is
    hashed; the name is normalised as ``safe_join`` serves it (``css/./a.css`` is
    ``css/a.css``), so aliases of one file share its cache entry.
    """
    response = current_app.send_static_file(filename)
    version = request.args.get(VERSION_ARG)
    if version is not None and version == fingerprint(posixpath.normpath(filename)):
        cache_control = response.cache_control
        cache_control.no_cache = None
        cache_control.public = True
        cache_control.max_age = IMMUTABLE_MAX_AGE_SECONDS
        cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    """Fingerprint static URLs and serve fingerprinted requests with a year-long cache."""
    if not app.has_static_folder:
        return
    app.extensions[_EXTENSION_KEY] = {}
    app.url_defaults(_add_fingerprint)
    app.view_functions["static"] = serve_static

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

Each fingerprint is computed at its file's first use and kept with the file's size and
modification time: no request hashes or reads a file to build a URL, and the survey page
builds its URLs once per process anyway (``webapp.citizen.views``). Serving an asset
compares the file's size and time with those kept (one ``stat``, as serving it needs
anyway): a file replaced under a running process (an in-place deploy, a graceful
reload) is hashed again, so its old URL is never answered with the new bytes marked
immutable, and pages rendered from then on name the new content. The HTML pages keep
``no-store`` (``webapp.security``): only the assets are cached.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Fingerprint:
    """A file's fingerprint and the size and modification time it was taken at."""

    digest: str
    size: int
    mtime_ns: int


def _path(filename: str) -> Path | None:
    static_folder = current_app.static_folder
    path = safe_join(static_folder, filename) if static_folder else None
    return Path(path) if path is not None else None


def _take_fingerprint(path: Path | None) -> _Fingerprint | None:
    """The first hex digits of the SHA-256 of a static file, or None if there is no such file."""
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()[:FINGERPRINT_HEX_DIGITS]
    return _Fingerprint(digest, stat.st_size, stat.st_mtime_ns)


def _cache() -> dict[str, _Fingerprint | None]:
    cache: dict[str, _Fingerprint | None] = current_app.extensions[_EXTENSION_KEY]
    return cache


def fingerprint(filename: str) -> str | None:
    """The current app's fingerprint of a static file, taken at its first use.

    A missing file is remembered as None (its URL carries no version). The names come
    from our own templates and code, or from requests for files that exist, so the cache
    holds at most one entry per file.
    """
    cache = _cache()
    if filename not in cache:
        cache[filename] = _take_fingerprint(_path(filename))
    found = cache[filename]
    return found.digest if found is not None else None


def _current_fingerprint(filename: str) -> str | None:
    """The fingerprint of the file as it is now: taken again if its size or time changed."""
    cache = _cache()
    kept = cache.get(filename)
    path = _path(filename)
    if kept is not None and path is not None:
        try:
            stat = path.stat()
        except OSError:  # removed since it was served: taken again below, as missing
            stat = None
        if stat is not None and (stat.st_size, stat.st_mtime_ns) == (kept.size, kept.mtime_ns):
            return kept.digest
    found = cache[filename] = _take_fingerprint(path)
    return found.digest if found is not None else None


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
    if version is not None and version == _current_fingerprint(posixpath.normpath(filename)):
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

"""Page arithmetic of the paged staff lists (the ticket queue, the audit log)."""

from __future__ import annotations


def clamp_page(number: int, total: int, page_size: int) -> tuple[int, int]:
    """The page number within 1…page count, and the page count (at least 1: an empty list is one empty page)."""
    page_count = max(1, -(-total // page_size))
    return min(max(number, 1), page_count), page_count

"""Comment hygiene of many texts at once is the same as one at a time."""
from __future__ import annotations

from planner.exporters._common import comment_text, comment_texts


def test_comment_texts_match_comment_text():
    clean = [f"host1/ns:c{n}/eth0: bring up" for n in range(50)]
    assert comment_texts(clean) == clean
    dirty = clean[:10] + ["design 'a\nrm -rf /'", "bidi \u202e txt", "nel \x85 and \u2028"] + clean[10:]
    assert comment_texts(dirty) == [comment_text(t) for t in dirty]
    assert "\n" not in "".join(comment_texts(dirty))
    assert comment_texts([]) == []

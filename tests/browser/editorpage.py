"""The editor page as the browser tests drive it: wait for it, let its live check settle, store a
design through the API and open it. One copy for every test module (and conftest's fixtures)."""
from __future__ import annotations


def wait_ready(page):
    page.wait_for_selector("body[data-ready='true']")


def wait_check(page, state="ok"):
    """Wait until the live check settled: no check pending and the last answer shown is `state`."""
    page.evaluate("() => window.mvplanEditor.runCheck()")  # resolves once no check is pending
    page.wait_for_function("s => document.body.dataset.check === s", arg=state)


def settle(page, state="ok"):
    # An edit sends its check at once (no debounce) and marks the page pending at once; the short
    # wait covers edits that land a moment after the action (a drag's mouseup, a change on blur).
    page.wait_for_timeout(50)
    wait_check(page, state)


def create_design(page, doc) -> int:
    """Store `doc` as a new design through the API (from the index page, with its CSRF token)."""
    page.goto("/")
    wait_ready(page)
    return page.evaluate("""async (doc) => {
        const tok = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/designs', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': tok},
            body: JSON.stringify({document: doc})});
        return (await r.json()).id;
    }""", doc)


def open_design(page, doc, settled: bool = True) -> int:
    """Store `doc` as a new design and open it in the editor, ready (its first check settled
    unless `settled` is false); returns its id."""
    design_id = create_design(page, doc)
    page.goto(f"/designs/{design_id}")
    wait_ready(page)
    if settled:
        settle(page)
    return design_id

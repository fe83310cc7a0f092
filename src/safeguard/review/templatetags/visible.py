"""The `visible` filter: free text escaped, with every control, format and bidi character shown
as a marker (⟨U+202E⟩) instead of acting on the page.

Text that people send is evidence and is kept exactly, so a right-to-left override or a
zero-width space in a message stays in the database; on screen it must not reorder or hide what
a reviewer reads. Tabs and line breaks are ordinary layout and are left alone (apply
`linebreaksbr` after this filter to show the line breaks).
"""

from __future__ import annotations

import unicodedata

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from safeguard.core.invisible import describe, runs

register = template.Library()


def _marker(char: str) -> str:
    code = f"U+{ord(char):04X}"
    title = describe(char)
    if unicodedata.category(char) == "Cs":
        title = f"{code} lone surrogate"
    return f'<span class="invisible-char" title="{escape(title)}">⟨{code}⟩</span>'


@register.filter(is_safe=True)
def visible(value: object) -> SafeString:
    """Escape `value` and replace each invisible character with a visible, labelled marker."""
    if value is None:
        return mark_safe("")
    text = str(value)
    parts = [_marker(part) if invisible else escape(part) for part, invisible in runs(text)]
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped or built here

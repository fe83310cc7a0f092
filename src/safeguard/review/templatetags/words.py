"""`{{ value|word:"label" }}`: the console's word for a stored value (safeguard/review/words.py).

{% load words %}
{{ case.state|word:"state" }}        -> In review
{{ d.kind|word:"decision_kind" }}    -> Escalated to lead
"""

from __future__ import annotations

from django import template

from safeguard.review import words

register = template.Library()


@register.filter(name="word")
def word(value: object, vocabulary: str) -> str:
    return words.word(value, vocabulary)

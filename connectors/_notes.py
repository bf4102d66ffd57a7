"""Note text every connector shares: plain text as note HTML, and the marker footer.

Theory of operation
-------------------
* The decision core writes plain text (Portuguese, may quote the customer). Helpdesks that
  take HTML notes (Freshdesk, Movidesk) get it escaped, one ``<br>`` per line break.
* Every note, task and ticket helpdesk-sync writes carries the marker ``hs-ref:<key>`` of
  each effect it holds (``sync.effects.marker``), so ``find_applied`` finds it again after
  a crash. The markers go in a visible footer line, never in an HTML comment or a hidden
  style: helpdesks sanitise note HTML (Freshdesk drops comments and may drop styles), a
  visible text line survives both in the HTML body and in the plain-text copy.
* The footer's wording is a template with ``{marker}`` (connector setting, default
  ``DEFAULT_MARKER_FOOTER``); a footer carrying several effects lists their markers
  separated by spaces, and each is found by its own.
"""

from __future__ import annotations

import html

from sync.effects import marker

DEFAULT_MARKER_FOOTER = "— helpdesk-sync {marker}"
"""The footer line; ``{marker}`` becomes the markers of the effects the text holds."""


def text_to_html(text: str) -> str:
    """Plain text as note HTML: escaped (it may quote customers), newlines as ``<br>``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<div>" + "<br>".join(html.escape(line) for line in lines) + "</div>"


def footer_text(template: str, *keys: str) -> str:
    """The footer line (plain text) carrying the marker of every effect the text holds."""
    return template.format(marker=" ".join(marker(key) for key in keys))


def footer_html(template: str, *keys: str) -> str:
    """The footer as one visible HTML paragraph."""
    return "<p>" + html.escape(footer_text(template, *keys)) + "</p>"


def has_marker(key: str, *texts: str | None) -> bool:
    """True when one of the texts (HTML body, plain-text copy) carries the effect's marker."""
    tag = marker(key)
    return any(tag in (text or "") for text in texts)


__all__ = ["DEFAULT_MARKER_FOOTER", "footer_html", "footer_text", "has_marker", "text_to_html"]

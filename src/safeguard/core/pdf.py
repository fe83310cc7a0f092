"""The project's one way to write a PDF (ReportLab, docs/decisions/pdf-library.md): A4 documents
of headings, paragraphs, tables and monospaced blocks, with a footer and page numbers."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

__all__ = ["PdfDocument", "printable"]

# Bitstream Vera ships inside ReportLab, so the PDF embeds a real TrueType font without any
# system font; it covers Latin-1, Latin Extended-A in part and common punctuation. Courier is a
# PDF base font (WinAnsi): it covers printable ASCII and Latin-1 only.
SANS: Final = "SafeguardSans"
SANS_BOLD: Final = "SafeguardSans-Bold"
MONO: Final = "Courier"
_VERA = TTFont(SANS, "Vera.ttf")
_VERA_BOLD = TTFont(SANS_BOLD, "VeraBd.ttf")
if SANS not in pdfmetrics.getRegisteredFontNames():
    pdfmetrics.registerFont(_VERA)
    pdfmetrics.registerFont(_VERA_BOLD)
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
    )

# Both fonts have a glyph for these; every other character is written as a visible [U+XXXX]
# so that nothing is silently dropped or drawn as an empty box. The bold face has the same map.
_SANS_CHARS: Final = frozenset(
    chr(code) for code in _VERA.face.charToGlyph if code >= 0x20 and code != 0xFFFF
) & frozenset(chr(code) for code in _VERA_BOLD.face.charToGlyph if code >= 0x20)
_MONO_CHARS: Final = frozenset(chr(code) for code in [*range(0x20, 0x7F), *range(0xA0, 0x100)])

_MARGIN: Final = 18 * mm
_WIDTH: Final = A4[0] - 2 * _MARGIN
_INK: Final = colors.HexColor("#1a1a1a")
_RULE: Final = colors.HexColor("#9a9a9a")
_SHADE: Final = colors.HexColor("#e6e9ee")

_STYLES: Final = {
    "title": ParagraphStyle("title", fontName=SANS_BOLD, fontSize=17, leading=21, spaceAfter=3),
    "subtitle": ParagraphStyle(
        "subtitle", fontName=SANS, fontSize=10.5, leading=14, textColor=colors.HexColor("#444444")
    ),
    "heading": ParagraphStyle(
        "heading", fontName=SANS_BOLD, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4
    ),
    "body": ParagraphStyle(
        "body", fontName=SANS, fontSize=9.5, leading=13, spaceAfter=5, alignment=TA_LEFT
    ),
    "cell": ParagraphStyle("cell", fontName=SANS, fontSize=8, leading=10),
    "cell-head": ParagraphStyle("cell-head", fontName=SANS_BOLD, fontSize=8, leading=10),
    "cell-mono": ParagraphStyle("cell-mono", fontName=MONO, fontSize=7.5, leading=9.5),
    "mono": ParagraphStyle("mono", fontName=MONO, fontSize=8, leading=10, spaceAfter=6),
}
# Courier's advance is 0.6 em: the characters that fit across the text width at 8 pt.
_MONO_LINE: Final = int(_WIDTH / (0.6 * 8))


def printable(text: str, *, mono: bool = False) -> str:
    """`text` with every character the font cannot draw written as [U+XXXX]; newlines are kept
    and a tab becomes four spaces."""
    allowed = _MONO_CHARS if mono else _SANS_CHARS
    out = []
    for char in text.replace("\r\n", "\n").replace("\t", "    "):
        out.append(char if char == "\n" or char in allowed else f"[U+{ord(char):04X}]")
    return "".join(out)


def _markup(text: str, *, mono: bool = False) -> str:
    """Paragraph text is XML-like markup: escape it so that "<b>" prints as written."""
    return escape(printable(text, mono=mono)).replace("\n", "<br/>")


def _footer(text: str, total: int) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN, 13 * mm, A4[0] - _MARGIN, 13 * mm)
        canvas.setFont(SANS, 8)
        canvas.setFillColor(_INK)
        canvas.drawString(_MARGIN, 9 * mm, printable(text.replace("\n", " ")))
        number = canvas.getPageNumber()
        canvas.drawRightString(A4[0] - _MARGIN, 9 * mm, f"Page {number} of {total}")
        canvas.restoreState()

    return draw


class PdfDocument:
    """A document built in reading order, then rendered once. Every text is printed as given:
    markup characters are escaped and characters outside the fonts are shown as [U+XXXX]."""

    def __init__(self, title: str, subtitle: str = "", *, footer: str = "") -> None:
        self.title = title
        self.footer = footer
        # Flowables are made afresh for each layout pass: ReportLab changes them as it lays out.
        self._story: list[Callable[[], list[Flowable]]] = []
        self._add(lambda: [Paragraph(_markup(title), _STYLES["title"])])
        if subtitle:
            self._add(lambda: [Paragraph(_markup(subtitle), _STYLES["subtitle"])])
        self._add(lambda: [Spacer(1, 4 * mm)])

    def _add(self, make: Callable[[], list[Flowable]]) -> None:
        self._story.append(make)

    def heading(self, text: str) -> None:
        self._add(lambda: [Paragraph(_markup(text), _STYLES["heading"])])

    def paragraph(self, text: str) -> None:
        self._add(lambda: [Paragraph(_markup(text), _STYLES["body"])])

    def mono(self, text: str) -> None:
        """Monospaced text (hashes, a signed checkpoint, a command), line breaks kept and long
        lines wrapped at the page width."""
        shown = printable(text, mono=True)
        self._add(lambda: [Preformatted(shown, _STYLES["mono"], maxLineLength=_MONO_LINE)])

    def table(
        self,
        rows: Sequence[Sequence[str]],
        header: Sequence[str] | None = None,
        *,
        mono_columns: Sequence[int] = (),
        widths: Sequence[float] | None = None,
    ) -> None:
        """A table across the page; `widths` are relative column widths (equal if not given) and
        `mono_columns` the columns set in Courier, such as hashes. Long words wrap."""
        columns = max([len(header or ())] + [len(row) for row in rows])
        if columns == 0:
            return
        shares = list(widths) if widths is not None else [1.0] * columns
        if len(shares) != columns or any(share <= 0 for share in shares):
            raise ValueError(f"widths must be {columns} positive numbers")
        col_widths = [_WIDTH * share / sum(shares) for share in shares]

        def cell(text: str, column: int, *, head: bool = False) -> Paragraph:
            if head:
                return Paragraph(_markup(text), _STYLES["cell-head"])
            mono = column in mono_columns
            style = _STYLES["cell-mono" if mono else "cell"]
            return Paragraph(_markup(text, mono=mono), style)

        def make() -> list[Flowable]:
            data: list[list[Paragraph]] = []
            if header is not None:
                data.append([cell(text, i, head=True) for i, text in enumerate(header)])
                data[0] += [cell("", i, head=True) for i in range(len(header), columns)]
            for row in rows:
                padded = [*row, *[""] * (columns - len(row))]
                data.append([cell(text, i) for i, text in enumerate(padded)])
            table = Table(
                data,
                colWidths=col_widths,
                repeatRows=1 if header is not None else 0,
                hAlign="LEFT",
                splitInRow=1,
            )
            table.setStyle(TableStyle(style))
            return [table, Spacer(1, 3 * mm)]

        style: list[Any] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        if header is not None:
            style.append(("BACKGROUND", (0, 0), (-1, 0), _SHADE))
        self._add(make)

    def key_values(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Label and value on each line, labels bold: the facts at the head of a report."""
        items = [(str(key), str(value)) for key, value in pairs]
        if not items:
            return

        def make() -> list[Flowable]:
            data = [
                [
                    Paragraph(_markup(key), _STYLES["cell-head"]),
                    Paragraph(_markup(value), _STYLES["cell"]),
                ]
                for key, value in items
            ]
            table = Table(
                data, colWidths=[_WIDTH * 0.28, _WIDTH * 0.72], hAlign="LEFT", splitInRow=1
            )
            style: list[Any] = [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, _RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ]
            table.setStyle(TableStyle(style))
            return [table, Spacer(1, 3 * mm)]

        self._add(make)

    def _layout(self, total: int) -> tuple[bytes, int]:
        out = io.BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=22 * mm,
            title=printable(self.title),
            author="Safeguard",
            creator="Safeguard",
            invariant=True,
        )
        footer = _footer(self.footer, total)
        doc.build(
            [flowable for make in self._story for flowable in make()],
            onFirstPage=footer,
            onLaterPages=footer,
        )
        return out.getvalue(), doc.page

    def render(self) -> bytes:
        """The PDF's bytes; equal documents render to equal bytes (no time or random id). It is
        laid out twice, the second time knowing the page count for "Page n of N"."""
        _, pages = self._layout(0)
        # The footer lies outside the frame, so the second pass lays the body out the same.
        return self._layout(pages)[0]

"""The one PDF module: what is written can be read back as written (markup escaped, characters
outside the fonts shown as [U+XXXX]), any text renders, pages are numbered and not blank."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from safeguard.core.pdf import PdfDocument, printable

FOOTER = "CONFIDENTIAL — law-enforcement disclosure"


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def sample() -> PdfDocument:
    doc = PdfDocument("Disclosure package PKG-0001", "Prepared 30 Nov 2026", footer=FOOTER)
    doc.key_values([("Agency", "Northshire Police Service (fictional)"), ("Process", "warrant")])
    doc.heading("Files")
    doc.paragraph("Each file is listed with its SHA-256 hash.")
    doc.table(
        [["files/a.png", "a" * 64], ["files/b.txt", "b" * 64]],
        ["File", "SHA-256"],
        mono_columns=[1],
    )
    doc.mono("safeguard custody verify PKG-0001.zip --public-key KEY")
    return doc


def test_every_part_is_in_the_text_with_the_footer_and_page_number() -> None:
    pdf = sample().render()

    assert pdf.startswith(b"%PDF-")
    [page] = text_of(pdf)
    for expected in [
        "Disclosure package PKG-0001",
        "Prepared 30 Nov 2026",
        "Agency",
        "Northshire Police Service (fictional)",
        "Files",
        "Each file is listed with its SHA-256 hash.",
        "files/a.png",
        "safeguard custody verify PKG-0001.zip --public-key KEY",
        FOOTER,
        "Page 1 of 1",
    ]:
        assert expected in page, expected
    # A long hash wraps inside its cell instead of running off the page.
    assert "a" * 64 in page.replace("\n", "")


def test_markup_in_any_text_prints_literally() -> None:
    hostile = '<b>bold</b> & <font color="red">x</font> &amp; <br/> <para>'
    doc = PdfDocument(hostile, hostile, footer=hostile)
    doc.heading(hostile)
    doc.paragraph(hostile)
    doc.table([[hostile]], [hostile])
    doc.key_values([(hostile, hostile)])
    doc.mono(hostile)

    [page] = text_of(doc.render())

    # Title, subtitle, footer, heading, paragraph, two table cells, key, value and mono; some
    # wrap across lines.
    assert " ".join(page.split()).count(hostile) == 10


def test_characters_outside_the_fonts_are_shown_not_dropped() -> None:
    doc = PdfDocument("Müller — Ø 中文 😀")
    doc.mono("é ∑")

    [page] = text_of(doc.render())

    assert "Müller — Ø [U+4E2D][U+6587] [U+1F600]" in page
    assert "é [U+2211]" in page
    assert printable("a\x00b\tc\r\nd\ud800") == "a[U+0000]b    c\nd[U+D800]"


def test_a_text_longer_than_a_page_flows_on_in_every_block() -> None:
    # A table row or a value taller than a page splits across pages instead of failing.
    doc = PdfDocument("Long " * 400)
    doc.table([["x " * 6000, "y" * 20000], ["\n" * 500, "z"]], ["a", "b"])
    doc.key_values([("k", "v " * 6000)])
    doc.paragraph("w" * 50000)
    doc.mono("m" * 50000)

    text = "".join(text_of(doc.render()))

    for char, count in [("x", 6000), ("y", 20000), ("v", 6000), ("w", 50000), ("m", 50000)]:
        assert text.count(char) == count, char


def test_pages_are_numbered_of_the_total() -> None:
    doc = PdfDocument("Weekly operations report", footer="Internal")
    for week in range(150):
        doc.paragraph(f"Line {week}: " + "queue figures " * 12)

    pages = text_of(doc.render())

    assert len(pages) > 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Internal" in page


def test_the_same_document_renders_to_the_same_bytes() -> None:
    assert sample().render() == sample().render()


def test_widths_must_fit_the_columns() -> None:
    with pytest.raises(ValueError, match="2 positive numbers"):
        PdfDocument("x").table([["a", "b"]], widths=[1])


def test_the_first_page_is_drawn_not_blank() -> None:
    document = pypdfium2.PdfDocument(sample().render())
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    width, height = image.size
    dark = sum(image.histogram()[:128])

    assert (round(width / 10), round(height / 10)) == (60, 84)  # A4: 595 x 842 points
    assert dark > 2000
    # The footer is drawn near the bottom edge.
    footer = image.crop((0, height - 45, width, height - 20))
    assert footer.getextrema()[0] < 128


_TEXT = st.text(max_size=300)


@settings(max_examples=60)
@given(_TEXT, _TEXT, st.lists(st.lists(_TEXT, max_size=4), max_size=4), _TEXT)
def test_any_text_renders(title: str, body: str, rows: list[list[str]], mono: str) -> None:
    doc = PdfDocument(title, body, footer=body)
    doc.heading(body)
    doc.paragraph(body)
    doc.table(rows, [title, body])
    doc.key_values([(title, body)])
    doc.mono(mono)

    pages = text_of(doc.render())

    assert pages
    assert "Page 1 of" in pages[0]

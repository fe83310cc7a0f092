"""The layers picture is generated from the import-linter contract, and follows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeguard.config.layers_doc import BEGIN, END, LayersError, layers_mermaid, spliced

CONTRACT = """
[tool.importlinter]
root_package = "safeguard"

[[tool.importlinter.contracts]]
name = "Apps import only downward"
type = "layers"
containers = ["safeguard"]
layers = ["config", "review | metrics", "audit : accounts"]
"""


def _pyproject(tmp_path: Path, text: str = CONTRACT) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_box_a_layer_and_an_arrow_down_from_each(tmp_path: Path) -> None:
    picture = layers_mermaid(_pyproject(tmp_path))

    assert picture.splitlines() == [
        "```mermaid",
        "flowchart TB",
        '    L0["config"]',
        '    L1["review | metrics<br/><i>do not import each other</i>"]',
        '    L2["audit : accounts<br/><i>use each other</i>"]',
        "    L0 --> L1",
        "    L1 --> L2",
        "```",
    ]


def test_the_block_between_the_markers_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    document = f"# Title\n\nbefore\n{BEGIN}\nstale picture\n{END}\nafter\n"

    result = spliced(document, _pyproject(tmp_path))

    assert result.startswith("# Title\n\nbefore\n" + BEGIN + "\n```mermaid\n")
    assert result.endswith("```\n" + END + "\nafter\n")
    assert "stale picture" not in result
    assert spliced(result, _pyproject(tmp_path)) == result


def test_a_document_without_markers_or_a_missing_contract_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayersError, match="markers"):
        spliced("# no markers\n", _pyproject(tmp_path))
    with pytest.raises(LayersError, match="no layers contract"):
        layers_mermaid(_pyproject(tmp_path, "[tool.other]\nx = 1\n"))


def test_the_committed_architecture_page_shows_the_contract_in_force() -> None:
    root = Path(__file__).resolve().parents[2]
    document = (root / "docs" / "architecture.md").read_text(encoding="utf-8")

    assert spliced(document, root / "pyproject.toml") == document

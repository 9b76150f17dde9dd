"""The JSON documents the bot prints and writes (`--json`, summary.json): a list of
objects is one line per item, and the text reads back as the same document."""

from __future__ import annotations

import json

import pytest

from myopenip_bot.text import json_text


def test_a_document_reads_back_whole_with_one_line_per_result() -> None:
    document = {
        "schema_version": 1,
        "counts": {"done": 2},
        "results": [
            {"licence": "FPC367128", "client": "Société « Générale » \u202e", "ratio": 0.5},
            {"licence": "FPC367129", "client": None, "keep": True, "screens": [1, 2]},
        ],
        "empty": [],
    }

    text = json_text(document)

    assert json.loads(text) == document
    lines = text.splitlines()
    assert (
        '    {"licence": "FPC367128", "client": "Société « Générale » \u202e", "ratio": 0.5},'
        in lines
    )
    assert "    " + json.dumps(document["results"][1], ensure_ascii=False) in lines


def test_a_value_json_cannot_write_is_refused_by_its_type() -> None:
    with pytest.raises(TypeError, match="set"):
        json_text({"results": [{"licences": {"FPC1"}}]})

"""Search queries and snippets; CSV/XLSX reading and mapping files (pure, files in tmp_path)."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from noc.core.errors import InputError
from noc.ingest import tabular
from noc.ingest.search import (
    gram_token,
    like_pattern,
    parse_query,
    short_grams,
    snippet,
    tier,
)

SENTENCE = "群众来电反映椰林镇文化路路灯不亮已经三天晚上出行不便请尽快维修"


def test_query_terms_and_phrases():
    q = parse_query("  路灯  不亮 路灯 ")
    assert q.terms == ("路灯", "不亮") and q.phrases == ("路灯 不亮 路灯", "路灯不亮")
    assert q.short_terms == ("路灯", "不亮") and q.long_terms == ()
    assert parse_query("street light").phrases == ("street light",)
    with pytest.raises(InputError, match="search text is empty"):
        parse_query("   ")
    with pytest.raises(InputError, match="longer than 100"):
        parse_query("字" * 101)


def test_tiers():
    q = parse_query("路灯 不亮")
    assert tier(q, "LS001", [SENTENCE]) == 1
    assert tier(q, "LS001", ["路灯晚上不亮"]) == 2
    assert tier(parse_query("ls001"), "LS001", [SENTENCE]) == 0


def test_snippet_marks_every_hit_in_a_window():
    q = parse_query("路灯不亮")
    s = snippet(SENTENCE, q, width=16)
    assert s.text == "…镇文化路路灯不亮已经三天晚上出行…"  # a quarter of the window before the hit
    assert s.marked() == "…镇文化路【路灯不亮】已经三天晚上出行…"
    assert s.html() == "…镇文化路<mark>路灯不亮</mark>已经三天晚上出行…"
    two = snippet("路灯坏了，晚上路灯不亮", parse_query("路灯 不亮"))
    assert two.marked() == "【路灯】坏了，晚上【路灯不亮】"
    assert snippet(SENTENCE, parse_query("停水")) is None
    assert (
        snippet("<b>路灯</b>", parse_query("路灯")).html() == "&lt;b&gt;<mark>路灯</mark>&lt;/b&gt;"
    )


def test_like_patterns_escape_wildcards():
    assert like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


# -- tables ----------------------------------------------------------------------------------

HEADER = ["工单编号", "受理时间", "诉求类型", "诉求内容", "满意度"]
ROW = ["LS001", "2026-11-03 08:15", "投诉", "路灯不亮", "满意"]


def csv_bytes(encoding: str, bom: bool = False) -> bytes:
    text = "\r\n".join(",".join(r) for r in (HEADER, ROW)) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (csv_bytes("utf-8"), "utf-8"),
        (csv_bytes("utf-8", bom=True), "utf-8"),
        (csv_bytes("gb18030"), "gb18030"),
    ],
)
def test_csv_in_utf8_with_or_without_bom_and_gb18030(data, encoding):
    table = tabular.read_csv(data, HEADER)
    assert table.encoding == encoding
    assert table.headers == HEADER
    assert table.rows == [(2, dict(zip(HEADER, ROW, strict=True)))]


def test_a_title_row_above_the_header_is_skipped_and_rows_keep_their_number(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["陵水县12345工单导出 2026年11月"])
    ws.append(HEADER)
    ws.append(["LS001", dt.datetime(2026, 11, 3, 8, 15), "投诉", "路灯不亮", "满意"])
    ws.append([None] * 5)
    ws.append([13800138000, dt.datetime(2026, 11, 3, 9, 0), "咨询", "社保", None])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    table = tabular.read_table(path, HEADER)
    assert table.header_row == 2
    assert [n for n, _ in table.rows] == [3, 5]
    assert table.rows[0][1]["受理时间"] == dt.datetime(2026, 11, 3, 8, 15)


def test_file_errors(tmp_path):
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(tabular.FileError, match="old .xls workbook"):
        tabular.read_table(old)
    with pytest.raises(tabular.FileError, match="neither UTF-8 nor GB18030"):
        tabular.read_csv(b"\x81\x30\xff\xff,a\n")
    with pytest.raises(tabular.FileError, match="column 'a' appears twice"):
        tabular.read_csv(b"a,b,a\n1,2,3\n", ["a"])


def test_mapper_with_the_shipped_provincial_mapping(tmp_path):
    mapping = tabular.load_mapping(tabular.resolve_mapping("province-12345-tickets"), "tickets")
    mapper = tabular.Mapper("tickets", [*HEADER, "序号"], mapping)
    assert mapper.ignored == ["序号"]
    row = mapper.convert({**dict(zip(HEADER, ROW, strict=True)), "满意度": "非常满意"})
    assert row == {
        "ticket_no": "LS001",
        "created_at": "2026-11-03 08:15",
        "type": "投诉",
        "content": "路灯不亮",
        "satisfaction": "满意",
    }
    assert mapper.column("satisfaction") == "满意度"
    with pytest.raises(tabular.FileError) as info:
        tabular.Mapper("tickets", ["工单编号", "诉求内容"], mapping)
    assert str(info.value) == (
        "no column for created_at (expected '受理时间' or 'created_at'), "
        "type (expected '诉求类型' or 'type'); the file has: 工单编号, 诉求内容"
    )


def test_mapping_file_errors_name_their_lines(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "kind: tickets\n"
        "columns:\n"
        "  工单编号: ticket_number\n"
        "  编号: ticket_no\n"
        "  单号: ticket_no\n"
        "values:\n"
        "  satisfation: {很好: 满意}\n"
        "extra: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(tabular.MappingError) as info:
        tabular.load_mapping(path, "tickets")
    assert [str(i).replace(str(path), "m.yaml") for i in info.value.issues] == [
        "m.yaml:8 extra: unknown key",
        "m.yaml:3 columns.工单编号: unknown field 'ticket_number' (did you mean 'ticket_no'?)",
        "m.yaml:5 columns.单号: ticket_no is already given by column '编号'",
        "m.yaml:7 values.satisfation: unknown field (did you mean 'satisfaction'?)",
    ]
    with pytest.raises(tabular.MappingError, match="this mapping is for tickets, not calls"):
        tabular.load_mapping(path, "calls")


def test_short_grams_are_every_character_and_pair_of_each_field_lower_cased():
    assert short_grams("停水了", None, "Ab") == {"停", "水", "了", "停水", "水了", "a", "b", "ab"}
    assert "了a" not in short_grams("停水了", "Ab")  # never across two fields
    assert short_grams("", None) == set()


def test_a_gram_token_is_one_ascii_word_whatever_the_characters():
    assert gram_token("水") == "00006c34"
    assert gram_token("a%") == "0000006100000025"
    assert gram_token("😀") == "0001f600"
    assert all(gram_token(g).isalnum() and gram_token(g).isascii() for g in ("，", " x", "_"))

"""The dashboard's charts: a title, axis names with units, a legend naming each cohort,
labels that stay inside the picture, and the same figures as a table for screen readers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkins.charts import Chart, Series, text_width
from checkins.dashboard import CohortFigures, charts, programme_dashboard
from checkins.demo import PREVIOUS_NAME
from programmes import seed_demo
from records import Member, Programme
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.checkins_web import session_cookie
from translations import for_locale

SVG = "{http://www.w3.org/2000/svg}"
LONG_NAME = "Programme de mentorat des jeunes diplômés — Île-de-France, promotion 2027"


def cohorts(n_months: int = 5, name: str = "Early-career mentoring 2027") -> tuple:
    current = CohortFigures(
        programme_id=2,
        name=name,
        checkins_by_month=[17, 8, 12, 3, 9][:n_months] + [i % 7 for i in range(n_months - 5)],
        confidence_by_stage={"enrolment": 2.5, "day30": 3.25, "close": 3.5, "end": 4.0},
    )
    previous = CohortFigures(
        programme_id=1,
        name=PREVIOUS_NAME,
        checkins_by_month=[5, 9, 11],
        confidence_by_stage={"enrolment": 2.0, "day30": 3.0, "midpoint": 3.6, "end": 8.5 / 2},
    )
    return current, previous


def parse(chart: Chart) -> tuple[ET.Element, float, float]:
    root = ET.fromstring(chart.svg)
    _x, _y, width, height = (float(v) for v in root.attrib["viewBox"].split())
    return root, width, height


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


def extent(element: ET.Element) -> tuple[float, float, float, float]:
    """left, top, right, bottom of a text element, its width estimated conservatively
    (:func:`checkins.charts.text_width`, checked against Chromium below) and its height
    a full em above the baseline and a third below."""
    size = float(element.attrib["font-size"])
    width = text_width(element.text or "", size, bold=element.attrib.get("font-weight") == "bold")
    x, y = float(element.attrib["x"]), float(element.attrib["y"])
    anchor = element.attrib.get("text-anchor", "start")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, y - size, left + width, y + size / 3


def test_each_chart_has_a_title_axis_names_with_units_and_a_legend() -> None:
    checkins_chart, confidence_chart = charts(*cohorts(), for_locale("en"))
    for chart in (checkins_chart, confidence_chart):
        root, _w, _h = parse(chart)
        assert root.attrib["role"] == "img"
        assert root.attrib["aria-label"] == chart.title
        assert root.find(f"{SVG}title").text == chart.title
        shown = " ".join(t.text or "" for t in texts(root))
        for words in (chart.title, chart.x_name, chart.y_name):
            assert words in shown
        assert "This cohort: Early-career mentoring 2027" in shown
        assert f"Previous cohort: {PREVIOUS_NAME}" in shown
    assert checkins_chart.title == "Check-ins logged in each month of the programme"
    assert checkins_chart.y_name == "Check-ins logged (number)"
    assert checkins_chart.x_name.startswith("Month of the programme")
    assert checkins_chart.labels == ["1", "2", "3", "4", "5"]  # not "M1".."M5"
    assert confidence_chart.y_name == "Mean confidence (1 = low, 5 = high)"
    assert "End of programme evaluation" in " ".join(confidence_chart.labels)
    # The 1-5 scale's axis ends at 5, and every figure shows on its bar.
    root, _w, _h = parse(confidence_chart)
    shown = [t.text for t in texts(root)]
    assert "5" in shown and "6" not in shown
    assert {"2.5", "3.2", "3.5", "4.0", "2.0", "3.0", "3.6"} <= set(shown)


@pytest.mark.parametrize(
    ("n_months", "name"),
    [(1, "A"), (5, "Early-career mentoring 2027"), (14, LONG_NAME), (48, "WWWWWWWWWW " * 8)],
)
def test_no_text_runs_outside_the_view_box_or_over_another(n_months: int, name: str) -> None:
    for chart in charts(*cohorts(n_months, name), for_locale("en")):
        root, width, height = parse(chart)
        boxes = [extent(t) for t in texts(root) if t.text]
        for (left, top, right, bottom), element in zip(boxes, texts(root), strict=False):
            assert left >= 0 and right <= width, (element.text, left, right, width)
            assert top >= 0 and bottom <= height, (element.text, top, bottom, height)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                overlap = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
                # Lines of one wrapped label may touch; glyphs never sit on others.
                assert overlap[0] <= 0 or overlap[1] <= 1.5, (a, b)


def test_a_bar_label_too_long_for_its_place_wraps_instead_of_running_out() -> None:
    labels = ["Before you start", "Half-way", "End of programme evaluation"] * 2
    chart = Chart(
        key="t",
        kind="bar",
        title="A",
        x_name="Survey",
        y_name="Mean (1-5)",
        labels=labels,
        series=[Series("x", [3.0] * 6)],
        top=5.0,
        decimals=1,
    )
    root, width, _h = parse(chart)
    shown = [t for t in texts(root) if float(t.attrib["font-size"]) == 11 and t.text != "5"]
    assert all(extent(t)[2] <= width for t in shown)
    words = " ".join(t.text or "" for t in shown)
    assert words.count("evaluation") == 2  # both long labels are there in full, wrapped


class TableReader(HTMLParser):
    """The cells of each ``<table>`` (by id), with each header cell's scope."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table: dict | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id"):
            self._table = self.tables.setdefault(
                attributes["id"], {"caption": "", "rows": [], "scopes": []}
            )
        elif self._table is not None and tag == "tr":
            self._table["rows"].append([])
        elif self._table is not None and tag in ("th", "td", "caption"):
            self._cell = []
            if tag == "th":
                self._table["scopes"].append(attributes.get("scope"))

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._table is None:
            return
        if tag == "caption" and self._cell is not None:
            self._table["caption"] = "".join(self._cell).strip()
            self._cell = None
        elif tag in ("th", "td") and self._cell is not None:
            self._table["rows"][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None


def _demo_dashboard(app: Flask, session: Session) -> tuple[str, int, object]:
    tenant = seed_demo(session)
    previous = session.scalars(select(Programme).where(Programme.name == PREVIOUS_NAME)).one()
    current = session.scalars(
        select(Programme).where(Programme.copied_from_id == previous.id)
    ).one()
    coordinator = session.scalars(select(Member).where(Member.tenant_id == tenant.id)).first()
    session.commit()
    board = programme_dashboard(session, tenant.id, current.id, date.today())
    name, value = session_cookie(app, tenant.id, coordinator.id, coordinator=True)
    return name, value, (current.id, board)


def test_the_page_shows_each_chart_with_its_figures_in_a_table(
    app: Flask, session: Session
) -> None:
    cookie, value, (programme_id, board) = _demo_dashboard(app, session)
    client = app.test_client()
    client.set_cookie(cookie, value)
    page = client.get(f"/dashboard/{programme_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    reader = TableReader()
    reader.feed(html)
    for chart in (board.checkins_chart, board.confidence_chart):
        table = reader.tables[f"{chart.key}-table"]
        assert table["caption"] == chart.title
        header, *rows = table["rows"]
        assert header == [chart.x_name, *(s.name for s in chart.series)]
        assert set(table["scopes"]) == {"col", "row"}
        assert len(rows) == len(chart.labels)
        for row, label, i in zip(rows, chart.labels, range(len(rows)), strict=True):
            assert row[0] == label
            for cell, series in zip(row[1:], chart.series, strict=True):
                value = series.values[i]
                assert cell == ("no data" if value is None else f"{value:.{chart.decimals}f}")
        assert f'aria-label="{chart.title}"' in html and 'role="img"' in html
    # Both cohorts are in the check-ins chart; its numbers are real counts.
    assert [s.name.split(": ")[0] for s in board.checkins_chart.series] == [
        "This cohort",
        "Previous cohort",
    ]
    assert any(v for s in board.checkins_chart.series for v in s.values)


@pytest.mark.browser
def test_chromium_draws_every_label_inside_the_chart_and_no_wider_than_estimated(
    app: Flask, session: Session, server: str, backend: str
) -> None:
    cookie, value, (programme_id, _board) = _demo_dashboard(app, session)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 700, "height": 900})
        context.add_cookies([{"name": cookie, "value": value, "domain": "127.0.0.1", "path": "/"}])
        page = context.new_page()
        page.goto(f"{server}/dashboard/{programme_id}")
        found = page.evaluate(
            """() => [...document.querySelectorAll('svg.chart')].map(svg => {
                const box = svg.viewBox.baseVal;
                return [...svg.querySelectorAll('text')].map(t => {
                    const b = t.getBBox();
                    return {text: t.textContent, size: +t.getAttribute('font-size'),
                            bold: t.getAttribute('font-weight') === 'bold',
                            width: t.getComputedTextLength(), x: b.x, y: b.y,
                            right: b.x + b.width, bottom: b.y + b.height,
                            boxWidth: box.width, boxHeight: box.height};
                });
            })"""
        )
        page.locator("#confidence-chart").screenshot(
            path=str(ARTIFACTS / f"dashboard-confidence-chart-{backend}.png")
        )
        browser.close()
    assert len(found) == 2 and all(found)
    for labels in found:
        for t in labels:
            assert t["x"] >= 0 and t["right"] <= t["boxWidth"], t
            assert t["y"] >= 0 and t["bottom"] <= t["boxHeight"], t
            assert t["width"] <= text_width(t["text"], t["size"], bold=t["bold"]), t

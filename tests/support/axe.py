"""axe-core in a real page: WCAG 2.2 AA violations, and content wider than the viewport.

axe-core comes from the npm registry, pinned in ``package.json``/``package-lock.json`` at
the repository's root; ``scripts/test`` runs ``npm ci`` when ``node_modules`` lacks it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe has no wcag22a tag: 2.2's new A
# criteria are not automatable, its AA one, target size, is wcag22aa).
WCAG_AA_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


@cache
def axe_source() -> str:
    """axe.min.js as text; a clear failure when ``npm ci`` has not installed it."""
    if not AXE_SCRIPT.is_file():
        raise RuntimeError(
            f"{AXE_SCRIPT.relative_to(ROOT)} is missing: run `npm ci` in {ROOT} "
            "(scripts/test does it when node_modules lacks axe-core)"
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; returns its violations of WCAG 2.2 AA.

    The script goes in through the DevTools protocol (``evaluate``), which the page's
    script policy does not govern: no nonce to borrow, and the page's own policy stays
    as strict as it ships.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        list(WCAG_AA_TAGS),
    )
    return list(results["violations"])


def describe_violations(where: str, violations: list[dict[str, Any]]) -> list[str]:
    """One line per failing element: page, rule id, target, and axe's help text."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(
                f"{where}: {violation['id']} ({violation['impact']}) at {target}: "
                f"{violation['help']} [{node.get('failureSummary', '').splitlines()[-1]}]"
            )
    return lines


# Elements in <main> whose box ends right of the viewport; 1 px of rounding is allowed.
_OVERFLOW_SCRIPT = """() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > width + 1) {
        for (const el of document.querySelectorAll("body *")) {
            const box = el.getBoundingClientRect();
            if (box.width > 0 && box.right > width + 1 && !el.closest("[hidden]")) {
                const parent = el.parentElement;
                // The outermost culprit only: its children overflow with it.
                if (parent && parent.getBoundingClientRect().right > width + 1) continue;
                const id = el.id ? "#" + el.id : "";
                const cls = el.classList.length ? "." + [...el.classList].join(".") : "";
                const name = el.tagName.toLowerCase() + id + cls;
                out.push(`${name} ends at ${Math.round(box.right)}px`);
            }
        }
        if (!out.length) out.push(`the page is ${document.documentElement.scrollWidth}px wide`);
    }
    return out;
}"""


def horizontal_overflow(page: Any) -> list[str]:
    """What makes the page scroll sideways at its current viewport (empty when nothing)."""
    return list(page.evaluate(_OVERFLOW_SCRIPT))


def unmarked_focus(page: Any, presses: int = 6) -> list[str]:
    """Tab through the first ``presses`` stops; returns those that show no outline of at
    least 2 px (WCAG 2.4.7, focus visible: Chromium's own ring is a 1 px ``auto``)."""
    unmarked = []
    blur = "() => document.activeElement && document.activeElement.blur()"
    page.evaluate(blur)
    for _ in range(presses):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                // A stop the window's focus left (it happens to a date field in a page
                // that a form's redirect opened) shows no state to judge.
                if (!el.matches(":focus")) return {name: "", style: "unjudged", width: 0};
                const style = getComputedStyle(el);
                const id = el.id ? "#" + el.id : "";
                return {name: el.tagName.toLowerCase() + id,
                        style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
            }"""
        )
        if stop is None:
            break
        if stop["style"] == "unjudged":
            continue
        if stop["style"] in ("none", "auto") or stop["width"] < 2:
            unmarked.append(f"{stop['name']} (outline {stop['style']} {stop['width']}px)")
    # The screenshot that may follow shows the page as it opens, not the last stop.
    page.evaluate(blur)
    return unmarked

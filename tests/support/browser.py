"""Headless Chromium for the console's tests and benchmark: Debian's ``chromium`` driven by
Playwright for Python (``playwright`` from PyPI, its browser downloads never used).

Why Playwright over Selenium + ``chromium-driver``: one package, no driver process to keep in
step with the browser, waits built in (``wait_for_selector``, ``wait_for_function``), and it
reads Navigation Timing and evaluates script in the page as easily as it clicks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NOC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("NOC_TEST_ARTIFACTS") or REPO / "tests" / "artifacts")


def launch(playwright):  # noqa: ANN001, ANN201 - playwright's sync API objects
    """Debian's Chromium, headless; ``--no-sandbox`` because tests run as root."""
    assert Path(CHROMIUM).exists(), (
        f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-wqy-microhei "
        "(.ci/system-deps test)"
    )
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )


def artifact(name: str) -> Path:
    """Where a screenshot goes (``tests/artifacts/``, or ``$NOC_TEST_ARTIFACTS``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


# The page draws two different Chinese characters and a character no font has (U+FFFF, drawn
# as the "tofu" box when a font is missing) in its own font; real glyphs differ from each other
# and from the box, and a CJK glyph is a full em wide.
TOFU_PROBE = """() => {
  const font = getComputedStyle(document.body).fontFamily;
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const draw = (ch) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = "40px " + font;
    ctx.fillStyle = "#000";
    ctx.fillText(ch, 8, 48);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(",");
  };
  ctx.font = "40px " + font;
  return {
    font,
    width: ctx.measureText("总").width,
    tofuWidth: ctx.measureText("\\uffff").width,
    a: draw("总"), b: draw("览"), tofu: draw("\\uffff"),
    inked: draw("总").split(",").some((v, i) => i % 4 === 3 && v !== "0"),
  };
}"""

"""Render a report in headless Chromium: every figure loads, the console stays clean."""

import os
import shutil

import pytest

from beyondadam.reporting.browser import BrowserUnavailableError, check_report, find_chromium
from beyondadam.reporting.pipeline import rerender
from beyondadam.reporting.sample import write_sample

pytestmark = pytest.mark.slow


def _require_browser():
    if find_chromium() is None:
        pytest.skip(
            "Chromium not found at /usr/bin/chromium: install Debian's chromium package "
            "(apt-get install -y chromium) to run the browser check of report.html"
        )
    pytest.importorskip(
        "websocket", reason="the websocket-client package drives Chromium: pip install it"
    )


@pytest.fixture
def report(tmp_path):
    write_sample(tmp_path)
    _, page = rerender(tmp_path)
    return page


def test_report_renders_in_chromium(report, tmp_path):
    _require_browser()
    shot = tmp_path / "report.png"
    seen = check_report(report, shot)
    assert seen.title.startswith("Reproduction of")
    assert len(seen.images) == 4
    assert seen.broken_images == []
    assert all(img["scheme"] == "data" for img in seen.images)
    assert seen.console_errors == []
    assert seen.external_requests == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a real page, not a blank one
    keep = os.environ.get("BEYONDADAM_SCREENSHOT_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, "report-sample.png"))


def test_browser_check_detects_broken_image_and_console_error(report):
    _require_browser()
    page = report.read_text()
    page = page.replace(
        "</main>",
        '<img alt="broken" src="data:image/png;base64,AAAA">'
        "<script>console.error('deliberate error')</script></main>",
    )
    report.write_text(page)
    seen = check_report(report)
    assert [img["alt"] for img in seen.broken_images] == ["broken"]
    assert any("deliberate error" in e for e in seen.console_errors)


def test_missing_browser_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("BEYONDADAM_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert find_chromium() is None
    with pytest.raises(BrowserUnavailableError, match="apt-get install chromium"):
        check_report(tmp_path / "x.html")

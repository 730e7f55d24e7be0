"""Open a report in headless Chromium and check it: every image loaded, no console error.

Chromium is driven through the Chrome DevTools Protocol over ``--remote-debugging-port`` with the
small ``websocket-client`` package (an optional dependency: ``pip install websocket-client``).
Nothing is downloaded: the system's Chromium (Debian's ``chromium`` package) is used.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BrowserCheck",
    "BrowserUnavailableError",
    "Page",
    "check_report",
    "find_chromium",
    "open_page",
]

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
)


class BrowserUnavailableError(RuntimeError):
    """No Chromium binary, or the ``websocket-client`` package is missing."""


@dataclass
class BrowserCheck:
    """What the browser saw."""

    images: list[dict[str, Any]] = field(default_factory=list)
    """One entry per ``<img>``: ``alt``, ``complete``, ``naturalWidth``, ``naturalHeight``."""
    console_errors: list[str] = field(default_factory=list)
    """Console errors, uncaught exceptions and error log entries (e.g. failed loads)."""
    external_requests: list[str] = field(default_factory=list)
    """Requests for anything other than the page itself and ``data:`` URIs."""
    screenshot: Path | None = None
    title: str = ""

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        """Images that did not load (incomplete or zero-sized)."""
        return [i for i in self.images if not i["complete"] or i["naturalWidth"] <= 0]


def find_chromium() -> str | None:
    """Return the path of a Chromium binary (``BEYONDADAM_CHROMIUM`` overrides), or None."""
    env = os.environ.get("BEYONDADAM_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for cand in _CANDIDATES:
        if Path(cand).is_file():
            return cand
    return shutil.which("chromium")


class _Cdp:
    """Minimal synchronous CDP session over one websocket."""

    def __init__(self, ws_url: str, timeout: float) -> None:
        import websocket  # websocket-client

        self._ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        msg_id = self._next
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"CDP {method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name: str, timeout: float) -> dict[str, Any]:
        for ev in self.events:
            if ev["method"] == name:
                return ev
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self._ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == name:
                    return msg
        raise TimeoutError(f"no {name} within {timeout} s")

    def close(self) -> None:
        self._ws.close()


def _wait_port(profile_dir: Path, proc: subprocess.Popen[bytes], timeout: float) -> int:
    marker = profile_dir / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited early with status {proc.returncode}")
        if marker.is_file():
            lines = marker.read_text().splitlines()
            if lines and lines[0].strip().isdigit():
                return int(lines[0])
        time.sleep(0.05)
    raise TimeoutError(f"chromium did not open its DevTools port within {timeout} s")


def _page_ws_url(port: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
            targets = json.load(resp)
        for t in targets:
            if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                return t["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise TimeoutError("chromium opened no page target")


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for ev in events:
        p = ev.get("params", {})
        if ev["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            )
        elif ev["method"] == "Runtime.exceptionThrown":
            errors.append(p.get("exceptionDetails", {}).get("text", "exception"))
        elif ev["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
        elif ev["method"] == "Network.loadingFailed":
            errors.append(f"network: {p.get('errorText')} ({p.get('type')})")
    return errors


_IMAGES_JS = """JSON.stringify(Array.from(document.images).map(i => ({
  alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth,
  naturalHeight: i.naturalHeight, scheme: i.src.split(':')[0]})))"""


class Page:
    """A page loaded in headless Chromium (from :func:`open_page`): evaluate, click, screenshot."""

    def __init__(self, cdp: _Cdp, url: str, width: int, timeout: float) -> None:
        self._cdp = cdp
        self.url = url
        self.width = width
        self.timeout = timeout

    def evaluate(self, expression: str) -> Any:
        """The JSON-serializable value of a JavaScript expression (promises awaited)."""
        value = self._cdp.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in value:
            raise RuntimeError(f"page script failed: {value['exceptionDetails'].get('text')}")
        return value["result"].get("value")

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll ``expression`` until it is truthy and return its value (``TimeoutError``)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression[:80]!r} stayed falsy")
            time.sleep(0.1)

    def click(self, x: float, y: float) -> None:
        """A real left click (mouse moved, pressed, released) at viewport position (x, y)."""
        for kind, extra in (("mouseMoved", {}), ("mousePressed", {}), ("mouseReleased", {})):
            if kind != "mouseMoved":
                extra = {"button": "left", "clickCount": 1}
            self._cdp.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to viewport position (x, y)."""
        self._cdp.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)

    def screenshot(self, path: str | os.PathLike[str], max_height: int = 20000) -> Path:
        """Save a full-page PNG screenshot."""
        metrics = self._cdp.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = int(min(max_height, max(900, size["height"])))
        self._cdp.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = self._cdp.call("Page.captureScreenshot", format="png")
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads seen so far."""
        self.evaluate("0")  # drain the events already sent
        return _console_errors(self._cdp.events)

    def requests_outside(self, prefix: str) -> list[str]:
        """URLs requested so far that are not under ``prefix`` (nor ``data:``/``blob:`` URIs)."""
        return [
            ev["params"]["request"]["url"]
            for ev in self._cdp.events
            if ev["method"] == "Network.requestWillBeSent"
            and not ev["params"]["request"]["url"].startswith(("data:", "blob:", prefix))
        ]

    def external_requests(self) -> list[str]:
        """Requests for anything other than the page itself and ``data:``/``blob:`` URIs."""
        return self.requests_outside(self.url)


@contextlib.contextmanager
def open_page(
    page: str | os.PathLike[str],
    *,
    chromium: str | None = None,
    width: int = 1280,
    timeout: float = 60.0,
    offline: bool = False,
) -> Iterator[Page]:
    """Load ``page`` (a file or an ``http://`` URL) in headless Chromium; yield a :class:`Page`.

    The browser and its temporary profile are gone when the block exits.

    ``offline``: emulate a network that is down (any request for a URL then fails, and the
    failure shows in :meth:`Page.console_errors`).

    Raises:
        BrowserUnavailableError: Without a Chromium binary or the ``websocket-client`` package.

    """
    binary = chromium or find_chromium()
    if binary is None:
        raise BrowserUnavailableError(
            "no Chromium found (looked for /usr/bin/chromium; Debian: apt-get install chromium; "
            "or set BEYONDADAM_CHROMIUM)"
        )
    try:
        import websocket  # noqa: F401
    except ImportError as exc:
        raise BrowserUnavailableError(
            "the websocket-client package is needed to drive Chromium: pip install websocket-client"
        ) from exc
    text = str(page)
    url = text if text.startswith(("http://", "https://")) else Path(page).resolve().as_uri()
    # Chromium's helper processes can still write into the profile for a moment after the main
    # process exits: its removal must not fail the caller (a leftover is removed best-effort).
    with tempfile.TemporaryDirectory(
        prefix="beyondadam-chromium-", ignore_cleanup_errors=True
    ) as profile:
        cmd = [
            binary,
            *_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--window-size={width},900",
            "about:blank",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _wait_port(Path(profile), proc, timeout)
            cdp = _Cdp(_page_ws_url(port, timeout), timeout)
            try:
                for domain in ("Page", "Runtime", "Log", "Network"):
                    cdp.call(f"{domain}.enable")
                if offline:
                    cdp.call(
                        "Network.emulateNetworkConditions",
                        offline=True,
                        latency=0,
                        downloadThroughput=-1,
                        uploadThroughput=-1,
                    )
                cdp.call("Page.navigate", url=url)
                cdp.wait_event("Page.loadEventFired", timeout)
                yield Page(cdp, url, width, timeout)
            finally:
                cdp.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for _ in range(20):  # what the helpers were still writing when the directory was removed
        if not os.path.exists(profile):
            break
        time.sleep(0.1)
        shutil.rmtree(profile, ignore_errors=True)


def check_report(
    html_path: str | os.PathLike[str],
    screenshot: str | os.PathLike[str] | None = None,
    *,
    chromium: str | None = None,
    width: int = 1280,
    max_height: int = 20000,
    timeout: float = 60.0,
) -> BrowserCheck:
    """Load ``html_path`` in headless Chromium and report what loaded and what the console said.

    Args:
        html_path: The page to open (a local file).
        screenshot: Where to save a full-page PNG screenshot (``None``: none).
        chromium: Browser binary (default: :func:`find_chromium`).
        width: Viewport width in CSS pixels.
        max_height: Cap of the full-page screenshot's height.
        timeout: Seconds to wait for the browser and the page.

    Raises:
        BrowserUnavailableError: Without a Chromium binary or the ``websocket-client`` package.

    """
    result = BrowserCheck()
    with open_page(html_path, chromium=chromium, width=width, timeout=timeout) as page:
        result.images = json.loads(page.evaluate(_IMAGES_JS))
        result.title = page.evaluate("document.title") or ""
        result.external_requests = page.external_requests()
        if screenshot is not None:
            result.screenshot = page.screenshot(screenshot, max_height)
        result.console_errors = page.console_errors()
    return result

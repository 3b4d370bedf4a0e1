"""``flowers report``'s HTML in a real browser: headless Chromium renders it, and its tables fit the
page without a sideways scroll at a desktop and a phone width.

It needs Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) and is skipped
when it is not installed.  Set ``FLOWERS_KEEP_SCREENSHOTS=DIR`` to keep its screenshots.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest

from flowers import cli
from tests.factory import FIXTURES, fixture, save
from tests.reports import VARIANTS

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"
)
def test_html_in_headless_chromium(tmp_path):
    from PIL import Image

    out = tmp_path / "r"
    assert (
        cli.main(["report", str(FIXTURES / "one_run.json"), str(FIXTURES / "failed.json"), "-o", str(out), "-q"]) == 0
    )
    url = (out / "report.html").resolve().as_uri()
    dom = chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    comparison = dom.stdout.split('class="cards comparison"')[1].split("</table>")[0]
    rows = re.findall(
        r'<tr class="(ok|partial|failed|skipped|missing)[^"]*">\s*<td class="variant sticky">([^<]+) '
        r'<span class="run">(#\d)</span>',
        comparison,
    )
    assert [(v, run) for _, v, run in rows] == [(v, run) for v in VARIANTS for run in ("#1", "#2")]
    assert rows[-1] == ("missing", "mobilenet_v2_transfer", "#2")
    assert dom.stdout.count('<table class="cards sidebyside">') == 3  # accuracy, loss, throughput
    assert dom.stdout.count("<img") >= 4 and "<h2>History</h2>" in dom.stdout
    history = dom.stdout.split('class="cards history"')[1].split("</table>")[0]
    assert re.findall(r'<td class="variant sticky"><b>(#\d+)</b>', history) == ["#1", "#2"]
    keep = os.environ.get("FLOWERS_KEEP_SCREENSHOTS")
    for width, height in ((1280, 900), (390, 844)):
        shot = tmp_path / f"report-{width}.png"
        result = chromium(tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}", url)
        assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
        assert shot.stat().st_size > 20_000
        with Image.open(shot) as im:
            assert im.size == (width, height)
            rgb = im.convert("RGB")
            for top in range(0, height - 99, 100):  # painted all the way down, not a blank band
                colours = rgb.crop((0, top, width, top + 100)).getcolors(maxcolors=1_000_000)
                assert colours is None or len(colours) > 10, f"blank band at y={top} in the {width}px screenshot"
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)


def measuring_page(report_html: str, width: int) -> str:
    """A page showing ``report_html`` in a frame ``width`` px wide (headless Chromium's own window is
    at least 500 px) whose script writes, once laid out, each wide table's scroll and visible widths
    and the page's, into <pre id="measured">."""
    return f"""<!doctype html><body style="margin:0">
<iframe id="report" width="{width}" height="900" style="border:0" srcdoc="{escape(report_html, quote=True)}"></iframe>
<pre id="measured"></pre>
<script>
document.getElementById("report").addEventListener("load", event => {{
  const doc = event.target.contentDocument;
  const widths = [...doc.querySelectorAll("table.comparison, table.breakdown, table.sidebyside")].map(table => {{
    const box = table.closest(".scroll");
    return `${{table.classList[table.classList.length - 1]}} ${{box.scrollWidth}} ${{box.clientWidth}}`;
  }});
  widths.push(`page ${{doc.documentElement.scrollWidth}} ${{doc.documentElement.clientWidth}}`);
  document.getElementById("measured").textContent = widths.join("\\n");
}});
</script></body>"""


def widest_run() -> dict:
    """The widest Results and time tables a run makes: every column (efficiency, peak memory, the
    feature cache, a time breakdown), long feature-cache layer names and 3 seeds a variant (mean ± CI)."""
    data = fixture("one_run.json")
    parts = {
        "data_load": 95.0,
        "setup": 2.5,
        "feature_cache": 3.25,
        "first_epoch": 37.1,
        "later_epochs": 67.2,
        "evaluation": 0.2,
        "bookkeeping": 0.1,
    }
    benches = []
    for seed in range(3):
        for bench in copy.deepcopy(data["benchmarks"]):
            info = bench["extra_info"]
            info.update(
                seed=seed,
                test_accuracy=info["test_accuracy"] - 0.03 * seed,
                test_loss=info["test_loss"] + 0.021 * seed,
                breakdown=dict(parts),
                data_cached=False,
                wall_seconds=205.35,
                steady_images_per_second=12345.6,
            )
            info["config"] = dict(info["config"], seed=seed)
            if info.get("feature_cache", {}).get("enabled"):
                info["feature_cache"]["layer"] = "conv3_block4_out_of_a_long_backbone"
            bench["name"] = f"test_variant[{info['variant']}-seed={seed}]"
            benches.append(bench)
    data["benchmarks"] = benches
    data["flowers"]["cases"] = [
        {
            "name": b["name"],
            "variant": b["extra_info"]["variant"],
            "seed": b["extra_info"]["seed"],
            "status": "ok",
            "error": None,
        }
        for b in benches
    ]
    return data


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"
)
@pytest.mark.parametrize("runs", [1, 3])
@pytest.mark.parametrize("width", [1280, 390])
def test_results_and_time_tables_fit_the_page_without_a_sideways_scroll(tmp_path, width, runs):
    """One run, and three side by side (the comparison view's tables too)."""
    out = tmp_path / "r"
    paths = []
    for i in range(runs):
        data = widest_run()
        data["datetime"] = f"2026-12-0{i + 1}T10:00:00"
        paths.append(str(save(tmp_path / f"wide{i}.json", data)))
    assert cli.main(["report", *paths, "-o", str(out), "-q"]) == 0
    page = (out / "report.html").read_text()
    assert "± " in page and "conv3_block4_out_of_a_long_backbone" in page and "Where the time goes</h2>" in page
    measured = tmp_path / "measured.html"
    measured.write_text(measuring_page(page, width))
    dom = chromium(
        tmp_path, "--dump-dom", "--window-size=1400,1000", "--virtual-time-budget=5000", measured.resolve().as_uri()
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="measured">([^<]+)</pre>', dom.stdout)
    assert found, dom.stdout[-2000:]
    sizes = {
        name: (int(scroll), int(client))
        for name, scroll, client in (line.split() for line in found.group(1).splitlines())
    }
    assert sizes["page"] == (width, width), sizes  # the page itself never scrolls sideways
    if width == 1280:  # on a phone the Results are cards and the time table may scroll in its box
        assert sizes["comparison"][0] <= sizes["comparison"][1], sizes
        assert sizes["breakdown"][0] <= sizes["breakdown"][1], sizes
    else:
        assert sizes["comparison"][0] <= sizes["comparison"][1], sizes
    if runs > 1:  # the comparison view's tables: cards on a phone
        assert sizes["sidebyside"][0] <= sizes["sidebyside"][1], sizes

"""Accessibility audit: axe-core over every page of the app, on a desktop and on a phone-sized screen.

python -m bench.accessibility [--out assets/accessibility.json]

Starts `streamlit run streamlit_app.py`, opens each page in Chromium on first load and runs axe-core
(vendored in tests/vendor/axe-core, the engine behind Lighthouse's accessibility audit) with the WCAG
2.1 A and AA rules and axe's best practices. The report lists every finding by page, viewport and
impact. The end-to-end tests (tests/test_e2e_browser.py) assert the same after drawing, uploading
and marking a box, so a regression fails CI; this writes the figures the docs quote.
"""

import argparse
import json
import shlex
import sys
from collections import Counter

from bench.browser import AXE_SCRIPT, DESKTOP, PHONE, SCRIPT_FINISHED, SERIOUS, axe_violations, chromium
from bench.servers import running_streamlit

IMPACTS = ("minor", "moderate", "serious", "critical")
LOAD_TIMEOUT_MS = 120_000


def axe_version() -> str:
    head = AXE_SCRIPT.read_text(encoding="utf-8")[:200]
    return head.split("axe v", 1)[1].split()[0] if "axe v" in head else "unknown"


def run() -> dict:
    from ui.layout import PAGES

    report: dict = {"axe_core": axe_version(), "pages": {}}
    with running_streamlit() as (url, *_), chromium() as browser:
        for viewport_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            for page in PAGES:
                tab = browser.new_page(viewport=viewport)
                tab.set_default_timeout(LOAD_TIMEOUT_MS)
                tab.goto(url.rstrip("/") + "/" + page.url_path)
                tab.wait_for_selector(SCRIPT_FINISHED)
                tab.wait_for_timeout(1000)  # late layout (fonts, component iframes) settles
                findings = axe_violations(tab, IMPACTS)
                report["pages"].setdefault(page.title, {})[viewport_name] = {
                    "by_impact": dict(Counter({finding["impact"]: finding["count"] for finding in findings})),
                    "findings": findings,
                }
                tab.close()
    serious = sum(
        count
        for viewports in report["pages"].values()
        for audit in viewports.values()
        for impact, count in audit["by_impact"].items()
        if impact in SERIOUS
    )
    report["serious_or_critical"] = serious
    return report


def main(argv: list[str] | None = None) -> None:
    from cnn.artifacts import write_json
    from cnn.config import ASSETS_DIR

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ASSETS_DIR / "accessibility.json"))
    args = parser.parse_args(argv)
    report = run()
    report["command"] = "python -m bench.accessibility " + shlex.join(sys.argv[1:] if argv is None else argv)
    write_json(args.out, report)
    for title, viewports in report["pages"].items():
        print(f"{title:<14}", "  ".join(f"{name}: {json.dumps(audit['by_impact'])}" for name, audit in viewports.items()))
    print(f"axe-core {report['axe_core']}: {report['serious_or_critical']} serious or critical findings -> {args.out}")


if __name__ == "__main__":
    main()

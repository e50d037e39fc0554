"""Build report.md into a PDF with a headless Chromium (or Chrome), or into HTML without one.

    python build_report.py report.md            # -> report.pdf (or report.html)

Markdown is converted with Python-Markdown (tables, fenced code); images are
resolved next to the report. Without a Chromium-family browser on the PATH the
HTML is written instead and the command says so: open it in a browser and use
File > Print > Save as PDF.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
STYLE = """
body { font-family: "DejaVu Serif", Georgia, serif; max-width: 46em; margin: 2em auto;
       line-height: 1.4; font-size: 11pt; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.25em 0.6em; }
img { max-width: 100%; image-rendering: pixelated; }
code { font-size: 90%; }
"""


def to_html(markdown_path: Path) -> str:
    import markdown

    body = markdown.markdown(
        markdown_path.read_text(encoding="utf-8"), extensions=["tables", "fenced_code"]
    )
    base = markdown_path.resolve().parent.as_uri() + "/"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><base href="{base}">'
        f"<title>{markdown_path.stem}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def build(markdown_path: Path, out: Path | None = None) -> Path:
    """Write the PDF (or, without a browser, the HTML) and return its path."""
    markdown_path = Path(markdown_path)
    if not markdown_path.is_file():
        raise FileNotFoundError(f"no report at {markdown_path}")
    html = to_html(markdown_path)
    exe = browser()
    if exe is None:
        target = (out or markdown_path.with_suffix(".pdf")).with_suffix(".html")
        target.write_text(html, encoding="utf-8")
        return target
    target = out or markdown_path.with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        cmd = [exe, "--headless", "--disable-gpu", "--no-pdf-header-footer",
               f"--print-to-pdf={Path(target).resolve()}", page.as_uri()]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not Path(target).is_file():
        raise RuntimeError(f"{exe} could not print the PDF:\n{proc.stderr[-2000:]}")
    return Path(target)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python build_report.py REPORT.md", file=sys.stderr)
        return 2
    try:
        path = build(Path(argv[0]))
    except (FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if path.suffix == ".html":
        print(f"no Chromium or Chrome found: wrote {path}; print it to PDF from a browser")
    else:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

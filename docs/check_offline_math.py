"""Check that the built HTML site renders its math without network.

Run after the HTML build::

    python docs/check_offline_math.py docs/_build/html

Every page holding math (``class="math"``, as ``sphinx.ext.mathjax`` writes
it) must load MathJax from a file of the site itself, which must exist, and
no page may load MathJax from an address (``http:``, ``https:`` or ``//``).
At least one page must hold math: a site without any would prove nothing.
Exits with status 1 and one line per problem otherwise.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

#: The equations every reader meets first: they must be among the pages
#: with math, so that a renamed page or a lost directive is noticed.
PAGES_WITH_MATH = ("user_guide.html", "lca.html")


class _Page(HTMLParser):
    """The script sources of a page, and whether it holds math."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []
        self.has_math = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag in ("span", "div") and "math" in (attrs.get("class") or "").split():
            self.has_math = True


def _is_remote(src):
    parts = urlsplit(src)
    return bool(parts.scheme or parts.netloc)


def check_site(root):
    """The problems of the built site in ``root``, one message each.

    Parameters
    ----------
    root : pathlib.Path
        The HTML output folder, holding ``index.html``.

    Returns
    -------
    problems : list of str
        Empty when every page with math loads a local MathJax that exists
        and no page loads MathJax from the network.
    """
    if not (root / "index.html").is_file():
        return [f"{root} is not a built HTML site: no index.html there."]
    problems = []
    with_math = set()
    for path in sorted(root.rglob("*.html")):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        name = path.relative_to(root).as_posix()
        mathjax = [src for src in page.scripts if "mathjax" in src.lower()]
        remote = [src for src in mathjax if _is_remote(src)]
        for src in remote:
            problems.append(f"{name}: loads MathJax from the network: {src}")
        if not page.has_math:
            continue
        with_math.add(name)
        local = [src for src in mathjax if not _is_remote(src)]
        if not local:
            problems.append(f"{name}: holds math but loads no local MathJax.")
        for src in local:
            target = (path.parent / urlsplit(src).path).resolve()
            if not target.is_file() or target.stat().st_size == 0:
                problems.append(f"{name}: its MathJax {src} is not in the site.")
    if not with_math:
        problems.append(f"no page of {root} holds math: nothing was checked.")
    for name in PAGES_WITH_MATH:
        if name not in with_math:
            problems.append(f"{name}: expected to hold math, but it does not.")
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f"usage: python {Path(__file__).name} HTML_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    problems = check_site(root)
    for problem in problems:
        print(f"check_offline_math: {problem}", file=sys.stderr)
    if problems:
        return 1
    pages = sum(1 for _ in root.rglob("*.html"))
    print(
        f"check_offline_math: {pages} pages, MathJax is local on every page with math."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Fails on a broken internal link in a built site: a relative href or src to a file that does not
exist, or a #fragment that no id (or name) in the target page matches. With --markdown FILE…, the
relative links of Markdown files outside the book (the README) must name existing files. External links (a scheme or
//host) are not followed. Usage: check_links.py SITE_DIR | --markdown FILE…. Python 3 standard library only."""

import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

# mdBook's own chrome (print page, search index, theme files) links to what it generates itself.
SKIP_PAGES = {"print.html", "404.html", "toc.html"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (attribute value, line)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            if (tag, name) in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"),
                               ("object", "data"), ("embed", "src"), ("iframe", "src")):
                self.links.append((value, self.getpos()[0]))


def parse(path, cache={}):
    if path not in cache:
        page = Page()
        with open(path, encoding="utf-8") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def main(site):
    site = os.path.abspath(site)
    broken = []
    pages = 0
    for folder, _, files in os.walk(site):
        for file in files:
            if not file.endswith(".html") or os.path.relpath(os.path.join(folder, file), site) in SKIP_PAGES:
                continue
            path = os.path.join(folder, file)
            pages += 1
            for href, line in parse(path).links:
                parts = urlsplit(href)
                if parts.scheme or href.startswith("//") or href.startswith("javascript:"):
                    continue
                target = path if not parts.path else os.path.normpath(os.path.join(folder, unquote(parts.path)))
                where = f"{os.path.relpath(path, site)}:{line}: {href}"
                if not target.startswith(site):
                    broken.append(f"{where}: leaves the site")
                    continue
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                if not os.path.isfile(target):
                    broken.append(f"{where}: no such file")
                    continue
                if parts.fragment and target.endswith(".html"):
                    if unquote(parts.fragment) not in parse(target).ids:
                        broken.append(f"{where}: no id {parts.fragment!r} in {os.path.relpath(target, site)}")
    for b in broken:
        print(f"broken link: {b}", file=sys.stderr)
    if pages == 0:
        print(f"no HTML pages under {site}", file=sys.stderr)
        return 1
    print(f"check_links: {pages} pages, {len(broken)} broken links", file=sys.stderr)
    return 1 if broken else 0


def markdown(paths):
    """Relative links of Markdown files outside the book (the README) must name existing files."""
    import re
    broken = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for href in re.findall(r"\]\(([^)\s]+)\)", line):
                    parts = urlsplit(href)
                    if parts.scheme or href.startswith("#"):
                        continue
                    target = os.path.join(os.path.dirname(path), unquote(parts.path))
                    if not os.path.exists(target):
                        print(f"broken link: {path}:{number}: {href}: no such file", file=sys.stderr)
                        broken += 1
    return 1 if broken else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--markdown":
        sys.exit(markdown(sys.argv[2:]))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))

#!/usr/bin/env python3
"""Checks a --report page with Python's html.parser: tags balanced, no
script, no external reference (every src/href is a data: URI or a #fragment,
no url() in CSS). Prints one JSON line of counts for the C test:
{"imgs", "svgs", "bars", "lines", "line_points": [...], "bar_values": [...]}."""
import json
import sys
from html.parser import HTMLParser

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "area", "base", "col", "wbr",
        "path", "rect", "circle", "line", "polyline", "polygon"}  # SVG shapes may be self-closed


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.c = {"imgs": 0, "svgs": 0, "bars": 0, "lines": 0, "line_points": [], "bar_values": []}
        self.in_bar_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.errors.append("script element")
        for k in ("src", "href", "xlink:href"):
            v = a.get(k)
            if v is not None and not (v.startswith("data:") or v.startswith("#")):
                self.errors.append("external reference %s=%s" % (k, v[:60]))
        if "url(" in (a.get("style") or ""):
            self.errors.append("url() in a style attribute")
        if tag == "img":
            self.c["imgs"] += 1
        if tag == "svg":
            self.c["svgs"] += 1
        cls = (a.get("class") or "").split()
        if tag == "rect" and "bar" in cls:
            self.c["bars"] += 1
            self.in_bar_title = True
        if tag == "polyline" and "line" in cls:
            self.c["lines"] += 1
            self.c["line_points"].append(len((a.get("points") or "").split()))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            if tag == "rect":
                self.in_bar_title = False
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unbalanced </%s> (open: %s)" % (tag, self.stack[-3:]))
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.in_bar_title and self.stack and self.stack[-1] == "title" and ": " in data:
            try:
                self.c["bar_values"].append(float(data.rsplit(": ", 1)[1]))
            except ValueError:
                self.errors.append("bar title without a number: %r" % data)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    p = Checker()
    p.feed(text)
    p.close()
    if p.stack:
        p.errors.append("unclosed tags: %s" % p.stack)
    if "url(" in text.split("<style>", 1)[-1].split("</style>", 1)[0]:
        p.errors.append("url() in CSS")
    if p.errors:
        for e in p.errors:
            print(e, file=sys.stderr)
        return 1
    print(json.dumps(p.c))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A griffe extension for the API reference: docstrings are PyTorch-doc style plain text, not
Markdown, so an index expression such as ``out[index[i][j]][j]`` would read as a Markdown
reference link ``[...][j]`` (and mkdocs --strict rejects the unknown reference ``j``). Outside
inline code and indented code blocks, ``][`` is written ``]\\[``, which Markdown shows as the
same two brackets. Loaded by mkdocs.yml (mkdocstrings' ``extensions`` option).
"""
from __future__ import annotations

import re

import griffe

_CODE = re.compile(r"(`+)(.+?)\1")


def plain_brackets(text: str) -> str:
    out, in_block, block_indent = [], False, 0
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip())
        if in_block and line.strip() and indent <= block_indent:
            in_block = False
        if in_block or not line.strip():
            out.append(line)
            continue
        parts, last = [], 0
        for m in _CODE.finditer(line):     # leave inline code alone
            parts.append(line[last:m.start()].replace("][", "]\\["))
            parts.append(m.group(0))
            last = m.end()
        parts.append(line[last:].replace("][", "]\\["))
        out.append("".join(parts))
        if line.rstrip().endswith("::"):   # a literal block follows, indented further
            in_block, block_indent = True, indent
    return "\n".join(out)


class PlainBrackets(griffe.Extension):
    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None and "][" in obj.docstring.value:
            obj.docstring.value = plain_brackets(obj.docstring.value)

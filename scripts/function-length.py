#!/usr/bin/env python3
"""CONTRIBUTING.md's rule, checked: no function, initializer, accessor or closure in Sources/ is
longer than 60 lines from its opening brace to its closing one. Prints each one over and exits 1.

  python3 scripts/function-length.py [--max N] [folder ...]     (default: 60, Sources)

Run by scripts/test.sh. It reads Swift with string literals and comments blanked out, then
matches braces; a block counts when its opening line declares a func, init, deinit, subscript,
get/set/willSet/didSet, or when the brace opens a closure (`{ x in`, `= {`, `({`, `, {`).
"""
import os, re, sys

DECLARATION = re.compile(r"\b(func|init[?!]?|deinit|subscript|get|set|willSet|didSet)\b")
CLOSURE_AFTER = re.compile(r"^\s*(\[[^\]]*\]\s*)?(\(?[\w\s,:_<>?\[\]\.]*\)?\s*(throws\s*)?(->\s*[\w<>?\[\]\. ]+)?\s+in\b)")


def blank(text):
    """The text with the contents of string literals and comments replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif text.startswith('"', i) or (text[i] == "#" and re.match(r'#+"', text[i:])):
            hashes = len(re.match(r'#*', text[i:]).group(0))
            quote = '"""' if text.startswith('"""', i + hashes) else '"'
            close = quote + "#" * hashes
            j, k = i + hashes + len(quote), None
            while j < n:
                if hashes == 0 and text[j] == "\\":
                    j += 2; continue
                if text.startswith(close, j):
                    k = j + len(close); break
                j += 1
            k = n if k is None else k
            out.append(text[i:i + hashes + len(quote)] + re.sub(r"[^\n]", " ", text[i + hashes + len(quote):k - len(close)]) + close)
            i = k
        else:
            out.append(text[i]); i += 1
    return "".join(out)


def long_blocks(path, limit):
    """(line, length, head) of each counted block over `limit` lines. A block's head is the text
    since the last brace, so a signature over several lines still names its func."""
    text = blank(open(path, encoding="utf-8").read())
    stack, found, head, number = [], [], "", 1
    for i, char in enumerate(text):
        if char == "\n":
            number += 1
        if char == "{":
            after = text[i + 1:text.find("\n", i) if "\n" in text[i:] else len(text)]
            counts = bool(DECLARATION.search(head)) or bool(CLOSURE_AFTER.match(after)) \
                or bool(re.search(r"(=|\(|,|:|return)\s*$", head))
            stack.append((number, counts, " ".join(head.split())))
            head = ""
        elif char == "}":
            if stack:
                start, counts, name = stack.pop()
                if counts and number - start + 1 > limit:
                    found.append((start, number - start + 1, name[-80:]))
            head = ""
        else:
            head += char
    return found


def main(argv):
    limit, folders = 60, []
    args = iter(argv)
    for arg in args:
        if arg == "--max":
            limit = int(next(args))
        else:
            folders.append(arg)
    over = []
    for folder in folders or ["Sources"]:
        for root, _, files in os.walk(folder):
            for name in sorted(files):
                if name.endswith(".swift"):
                    path = os.path.join(root, name)
                    over += [(path, *block) for block in long_blocks(path, limit)]
    for path, start, length, head in over:
        print("%s:%d: %d lines (at most %d): %s" % (path, start, length, limit, head))
    if over:
        return 1
    print("function length: every function and closure in %s is at most %d lines" % (", ".join(folders or ["Sources"]), limit))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

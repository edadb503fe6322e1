"""A small reader for the EDN values found in Jepsen and Knossos histories.

EDN (extensible data notation, https://github.com/edn-format/edn) is the Clojure data
syntax Jepsen writes its histories in: ``{:process 0, :type :invoke, :f :read, :value
nil}``.  This reader covers what histories use — ``nil``, booleans, integers, floats,
strings, characters are not needed, keywords, symbols, vectors, lists, maps and sets —
and maps them to Python: keywords become strings without the colon (``:read`` →
``"read"``), vectors and lists become lists, maps dicts, sets frozensets.  It simplifies:
tagged literals (``#inst``, ``#uuid``) keep their value and drop the tag, ``#_`` discards
the next form, and numbers with ``N``/``M`` suffixes lose the suffix.

Errors raise :class:`EDNError` with the character offset, which the history readers turn
into a message naming file and line.
"""

from __future__ import annotations

import re

__all__ = ["EDNError", "Keyword", "parse_edn", "parse_edn_forms"]


class EDNError(ValueError):
    """A malformed EDN text; ``offset`` is where the problem starts."""

    def __init__(self, message, offset):
        super().__init__(message)
        self.offset = offset


class Keyword(str):
    """A keyword read from EDN (a ``str`` without the leading colon)."""

    __slots__ = ()


_TOKEN = re.compile(r"""
    (?P<ws>[\s,]+|;[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<open>\#\{|[\[({])
  | (?P<close>[\])}])
  | (?P<tag>\#_|\#[A-Za-z][^\s,\[\](){}"]*)
  | (?P<atom>[^\s,\[\](){}"\;]+)
""", re.VERBOSE)
_INT = re.compile(r"[+-]?\d+N?$")
_FLOAT = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_CLOSERS = {"[": "]", "(": ")", "{": "}", "#{": "}"}


def _atom(text, offset):
    if text == "nil":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if text.startswith(":") and len(text) > 1:
        return Keyword(text[1:])
    if _INT.match(text):
        return int(text.rstrip("N"))
    if _FLOAT.match(text):
        return float(text.rstrip("M"))
    if text[0].isdigit():
        raise EDNError(f"not a number: {text!r}", offset)
    return text                                   # a symbol


def _string(text, offset):
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def parse_edn(text: str):
    """Parse one EDN form from ``text`` (surrounding whitespace allowed).

    Examples
    --------
    >>> parse_edn('{:process 3, :type :ok, :f :cas, :value [1 2]}')
    {'process': 3, 'type': 'ok', 'f': 'cas', 'value': [1, 2]}
    >>> parse_edn('[nil "a\\\\"b" 1.5]')
    [None, 'a"b', 1.5]
    >>> parse_edn('{:a 1')
    Traceback (most recent call last):
    ...
    dsalgo.histories.edn.EDNError: unclosed '{' opened at character 0
    """
    forms, _inner = _parse(text)
    if len(forms) != 1:
        raise EDNError(f"expected one EDN form; found {len(forms)}", 0)
    return forms[0][1]


def parse_edn_forms(text: str):
    """The top-level forms of ``text`` as ``(offset, form)`` pairs, and the elements of a
    lone top-level vector or list the same way (or None).

    A history file is either a stream of maps or one collection of them (Knossos's
    ``[{…} {…}]``); the offsets let a reader name the line of each.

    Examples
    --------
    >>> parse_edn_forms('{:a 1}\\n{:a 2}')
    ([(0, {'a': 1}), (7, {'a': 2})], None)
    >>> parse_edn_forms('[{:a 1}\\n {:a 2}]')[1]
    [(1, {'a': 1}), (9, {'a': 2})]
    """
    forms, inner = _parse(text)
    if len(forms) == 1 and isinstance(forms[0][1], list):
        return forms, inner
    return forms, None


def _parse(text: str):
    stack = []                                   # (opener, offset, items)
    result = []                                  # (offset, form) at depth 0
    inner = []                                   # (offset, form) at depth 1
    pos, n = 0, len(text)
    discard = 0
    while pos < n:
        m = _TOKEN.match(text, pos)
        if not m:
            raise EDNError(f"unexpected character {text[pos]!r} at character {pos}", pos)
        kind, tok, start = m.lastgroup, m.group(), pos
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "tag":
            if tok == "#_":
                discard += 1
            continue                              # other tags: keep the value, drop the tag
        if kind == "open":
            stack.append((tok, start, []))
            continue
        if kind == "close":
            if not stack or _CLOSERS[stack[-1][0]] != tok:
                raise EDNError(f"unexpected {tok!r} at character {start}", start)
            opener, o_start, items = stack.pop()
            if opener == "{":
                if len(items) % 2:
                    raise EDNError(f"map opened at character {o_start} has an odd number "
                                   f"of forms", o_start)
                value = dict(zip(items[::2], items[1::2]))
            elif opener == "#{":
                value = frozenset(items)
            else:
                value = items
            start = o_start
        elif kind == "str":
            value = _string(tok, start)
        else:
            value = _atom(tok, start)
        if discard:
            discard -= 1
            continue
        if stack:
            stack[-1][2].append(value)
            if len(stack) == 1:
                inner.append((start, value))
        else:
            result.append((start, value))
    if stack:
        opener, o_start, _ = stack[-1]
        raise EDNError(f"unclosed {opener!r} opened at character {o_start}", o_start)
    return result, inner

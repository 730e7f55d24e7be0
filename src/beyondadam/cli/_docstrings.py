r"""Docstrings (reStructuredText with LaTeX math) rendered for a terminal or as Markdown.

The optimizers state their updates in their docstrings, in the ``.. math::`` and ``:math:`` of
Sphinx. A terminal gets the math as Unicode text (``\beta_1^t`` -> ``β₁ᵗ``, ``\frac{a}{b + c}``
-> ``a/(b + c)``); Markdown gets ``$...$`` and ``$$...$$`` with the LaTeX unchanged. Only the
subset of LaTeX the docstrings use is understood; anything else passes through without its
backslash, so nothing is lost.
"""

from __future__ import annotations

import re

__all__ = ["latex_to_text", "rst_to_markdown", "rst_to_text"]

_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega"
).split()
_SYMBOLS = dict(zip(_GREEK, "αβγδεζηθικλμνξπρστυφχψω", strict=True))
_SYMBOLS |= {
    "varepsilon": "ε", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "nabla": "∇", "partial": "∂",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "approx": "≈", "cdot": "·",
    "times": "×", "in": "∈", "infty": "∞", "leftarrow": "←", "gets": "←", "to": "→",
    "rightarrow": "→", "prod": "∏", "sum": "Σ", "ldots": "…", "dots": "…", "pm": "±",
    "quad": "  ", "qquad": "    ", ",": "", ";": "", ":": "", " ": " ", "!": "",
    "{": "{", "}": "}", "|": "‖", "_": "_",
}  # fmt: skip
_DROP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
_TEXT = {"operatorname", "text", "mathrm", "mathbf", "mathit", "textrm", "mathcal"}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307"}
_SUB = dict(
    zip(
        "0123456789+-=()aehijklmnoprstuvxβγρφχ,",
        "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ,",
        strict=True,
    )
)
_SUP = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUWβγδθφχ",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁᵂᵝᵞᵟᶿᵠᵡ",
        strict=True,
    )
)
_ROLE = re.compile(r":(?:math|class|func|mod|meth|attr|data|obj):`([^`]*)`")


def _argument(s: str, i: int) -> tuple[str, int]:
    """The argument of a command at ``s[i]``: a ``{...}`` group, a command, or one character."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i + 1 : j], j + 1
        return s[i + 1 :], len(s)
    if s[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", s[i:])
        assert m is not None
        return m.group(0), i + m.end()
    return s[i], i + 1


def _wrap(x: str) -> str:
    """``x``, parenthesised unless it is one token (so ``a/(b + c)`` keeps its meaning)."""
    x = x.strip()
    if not re.search(r"[\s+\-/=,<>≤≥·×]", x) or _enclosed(x):
        return x
    return f"({x})"


def _enclosed(x: str) -> bool:
    """Whether ``x`` is one parenthesised group, maybe after a name: ``(...)``, ``√(...)``."""
    start = x.find("(")
    if start < 0 or re.search(r"[\s+\-/=,]", x[:start]):
        return False
    depth = 0
    for k, c in enumerate(x[start:], start):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0:
            return k == len(x) - 1
    return False


def _script(x: str, mark: str) -> str:
    table = _SUB if mark == "_" else _SUP
    x = x.strip()
    if x and all(c in table for c in x):
        return "".join(table[c] for c in x)
    return mark + (x if len(x) == 1 else f"({x})")


def latex_to_text(s: str) -> str:
    """LaTeX math as readable Unicode text."""
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", s[i:])
            assert m is not None
            name, i = m.group(1), i + m.end()
            if name in ("frac", "tfrac", "dfrac"):
                a, i = _argument(s, i)
                b, i = _argument(s, i)
                frac = f"{_wrap(latex_to_text(a))}/{_wrap(latex_to_text(b))}"
                out.append({"1/2": "½", "1/4": "¼", "3/4": "¾"}.get(frac, frac))
            elif name == "sqrt":
                a, i = _argument(s, i)
                out.append("√" + _wrap(latex_to_text(a)))
            elif name in _ACCENTS:
                a, i = _argument(s, i)
                out.append(latex_to_text(a) + _ACCENTS[name])
            elif name in _TEXT:
                a, i = _argument(s, i)
                out.append(latex_to_text(a) if name != "text" else a)
            elif name not in _DROP:
                out.append(_SYMBOLS.get(name, name))
        elif c in "^_":
            a, i = _argument(s, i + 1)
            out.append(_script(latex_to_text(a), c))
        elif c == "{":
            a, i = _argument(s, i)
            out.append(latex_to_text(a))
        else:
            out.append(" " if c.isspace() else c)
            i += 1
    # one space from the source, wider gaps (\quad, \qquad) as three: equations stay apart
    return re.sub(" {2,}", "   ", "".join(out)).strip()


def _blocks(doc: str) -> list[tuple[str, list[str]]]:
    """Split a docstring into ``("text" | "math" | "literal", lines)`` blocks."""
    blocks: list[tuple[str, list[str]]] = []
    lines = doc.expandtabs().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = "math" if line.strip() == ".. math::" else None
        if kind is None and line.rstrip().endswith("::"):
            blocks.append(("text", [line.rstrip()[:-1]]))
            kind = "literal"
        if kind is None:
            blocks.append(("text", [line]))
            i += 1
            continue
        body: list[str] = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
        blocks.append((kind, [b[indent:] for b in body]))
        if i < len(lines):
            blocks.append(("text", [""]))
    return blocks


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Math lines grouped by equation (blank lines separate equations), stripped."""
    paras = "\n".join(x.strip() for x in lines).split("\n\n")
    return [p.strip().splitlines() for p in paras if p.strip()]


def _logical_lines(lines: list[str]) -> list[str]:
    """Source lines joined where a brace group continues on the next line."""
    out: list[str] = []
    pending = ""
    for line in lines:
        if line.lstrip().startswith("{") and out and not pending:
            pending = out.pop()  # an argument continued on the next line
        pending = f"{pending} {line.strip()}" if pending else line.strip()
        if pending.count("{") <= pending.count("}"):
            out.append(pending)
            pending = ""
    return out + ([pending] if pending else [])


def _inline(text: str, markdown: bool) -> str:
    def role(m: re.Match[str]) -> str:
        value = m.group(1)
        if m.group(0).startswith(":math:"):
            return f"${value}$" if markdown else latex_to_text(value)
        return f"`{value.lstrip('~').rsplit('.', 1)[-1] if value.startswith('~') else value}`"

    return _ROLE.sub(role, text.replace("``", "`"))


def rst_to_text(doc: str, indent: str = "") -> str:
    """A docstring for a terminal: math as Unicode text, Sphinx roles removed."""
    out: list[str] = []
    for kind, lines in _blocks(doc):
        if kind == "math":
            out += [indent + "    " + latex_to_text(x) if x else "" for x in _logical_lines(lines)]
        elif kind == "literal":
            out += [indent + "    " + x if x else "" for x in lines]
        else:
            out += [indent + _inline(x, markdown=False) if x else "" for x in lines]
    return "\n".join(out)


def rst_to_markdown(doc: str) -> str:
    """A docstring as Markdown: ``$...$`` inline math, ``$$...$$`` displays, fenced literals."""
    out: list[str] = []
    for kind, lines in _blocks(doc):
        if kind == "math":
            for eq in _paragraphs(lines):
                out += ["$$", *eq, "$$", ""]
            out.pop()
        elif kind == "literal":
            out += ["```text", *lines, "```"]
        else:
            out += [_inline(x, markdown=True) for x in lines]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

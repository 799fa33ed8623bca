"""The Document as a self-contained HTML page (charts as PNG data URIs) and as Markdown."""

import base64
import html
import re

from tools.report.document import Document, Section, Table

_CODE = re.compile(r"`([^`]+)`")

STYLE = """
body { font: 14px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1d2330;
       margin: 0; background: #f4f5f7; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
.subtitle { color: #5a6272; margin: 0 0 16px; }
nav { font-size: 13px; margin-bottom: 12px; }
nav a { margin-right: 12px; color: #3b6fb6; text-decoration: none; }
section { border-top: 1px solid #dde1e8; padding-top: 8px; margin-top: 20px; }
h2 { font-size: 19px; margin: 8px 0; }
p { margin: 6px 0; }
img { display: block; max-width: 100%; margin: 10px 0; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 13px; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
th { background: #eef1f6; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 12px; background: #f1f3f6; padding: 1px 3px; border-radius: 3px; }
""".strip()


def _inline_html(text: str) -> str:
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))


def _table_html(table: Table) -> str:
    caption = f"<caption>{_inline_html(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = []
    for row in table.rows:
        cells = "".join(
            f"<td{'' if i < table.text_columns else ' class=n'}>{_inline_html(cell)}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section_html(section: Section) -> str:
    parts = [f'<section id="{section.anchor}">', f"<h2>{html.escape(section.title)}</h2>"]
    parts += [f"<p>{_inline_html(p)}</p>" for p in section.paragraphs]
    for chart in section.charts:
        encoded = base64.b64encode(chart.png).decode("ascii")
        parts.append(f'<img alt="{html.escape(chart.alt)}" src="data:image/png;base64,{encoded}">')
    parts += [_table_html(table) for table in section.tables]
    parts.append("</section>")
    return "\n".join(parts)


def to_html(document: Document) -> str:
    nav = "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in document.sections)
    body = "\n".join(_section_html(section) for section in document.sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(document.title)}</title><style>{STYLE}</style></head>\n"
        f"<body><main><h1>{html.escape(document.title)}</h1>"
        f'<p class="subtitle">{html.escape(document.subtitle)}</p><nav>{nav}</nav>\n'
        f"{body}\n</main></body></html>\n"
    )


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table_markdown(table: Table) -> str:
    lines = [f"**{table.caption}**", ""] if table.caption else []
    lines.append("| " + " | ".join(table.headers) + " |")
    lines.append(
        "|"
        + "|".join(":---" if i < table.text_columns else "---:" for i in range(len(table.headers)))
        + "|"
    )
    lines += ["| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def to_markdown(document: Document) -> str:
    """The same sections without the charts (see the HTML report for those)."""
    parts = [f"# {document.title}", "", f"_{document.subtitle}_"]
    for section in document.sections:
        parts += ["", f"## {section.title}", ""]
        parts += [paragraph + "\n" for paragraph in section.paragraphs]
        parts += [_table_markdown(table) + "\n" for table in section.tables]
    return "\n".join(parts).rstrip() + "\n"

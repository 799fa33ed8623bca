"""The report as renderer-neutral sections: paragraphs, charts and tables of formatted strings."""

from dataclasses import dataclass, field


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    text_columns: int = 1  # leading columns that are text (left-aligned); the rest are figures


@dataclass
class Chart:
    png: bytes
    alt: str


@dataclass
class Section:
    anchor: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]

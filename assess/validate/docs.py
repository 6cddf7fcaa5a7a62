"""The rules report of one validation (the Data Docs equivalent): every expectation and its result, as HTML.

Linked from the receipt; it names rules, never answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Template

from ..core.sqlutil import atomic_write_text

_DOCS = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation rules: {{ file_name }}</title>
<style>body{font-family:"DejaVu Sans",sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top;font-size:90%}
.fail{background:#fde8e8}.ok{background:#eef8ee}code{font-size:85%}</style></head><body>
<h1>Validation rules</h1>
<p>{{ file_name }} &middot; {{ rules|length }} expectations &middot; {{ route }} &middot; {{ generated }}</p>
{% if suspect_rules %}<h2>Probably form problems (rows kept, with warnings)</h2>
<ul>{% for n in suspect_rules %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
<table><thead><tr><th>#</th><th>rule kind</th><th>rule</th><th>Great Expectations expectation</th><th>result</th>
<th>failing rows</th></tr></thead><tbody>
{% for kind, gx_type, describe, outcome in rules %}
<tr class="{{ 'ok' if outcome is none or outcome.success else 'fail' }}"><td>{{ loop.index }}</td><td>{{ kind }}</td>
<td>{{ describe }}</td><td><code>{{ gx_type }}</code></td>
<td>{{ 'not run' if outcome is none else ('passed' if outcome.success else 'failed') }}</td>
<td>{{ '' if outcome is none else outcome.unexpected }}</td></tr>
{% endfor %}
</tbody></table>
{% if not_checked %}<h2>Not checked</h2><ul>{% for n in not_checked %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
{% if not_enforced %}<h2>Not enforced at collection</h2>
<p>ODK and KoboToolbox check <code>constraint</code> and <code>required</code> only on questions a person answers, so
these rules on calculated, hidden and metadata fields were never enforced when the data was collected; they are
not applied here either.</p>
<ul>{% for n in not_enforced %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
</body></html>
""",
    autoescape=True,
)


def write_validation_docs(
    path: Path,
    *,
    file_name: str,
    route: str,
    rules: list[tuple],
    not_checked: list[str],
    not_enforced: list[str] | None = None,
    suspect_rules: list[str] | None = None,
) -> Path:
    """The per-run validation report (the Data Docs equivalent): every expectation and its result."""
    html = _DOCS.render(
        file_name=file_name,
        route=route,
        rules=rules,
        not_checked=not_checked,
        not_enforced=not_enforced or [],
        suspect_rules=suspect_rules or [],
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    atomic_write_text(Path(path), html)
    return Path(path)

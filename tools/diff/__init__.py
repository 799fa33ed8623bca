"""Semantic diff of two offline plans: what a change does to infrastructure, dashboards, alerts
and settings, as Markdown a reviewer reads in a minute.

    python -m tools.diff                    # merge base with main -> working tree
    python -m tools.diff HEAD~1 HEAD        # two git refs
    python -m tools.diff --plans old.json new.json   # two offline plans (files or folders)

Each side's plan is what `tools.synth` prints for that side's code and stack files; nothing
here needs Grafana, Docker, credentials or Pulumi state.
"""

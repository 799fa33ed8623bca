"""Folders and dashboards as Grafana resources, identical on both targets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from dashboards import DASHBOARDS, folders
from dashboards.panels import render


@dataclass(frozen=True)
class DashboardsArgs:
    provider: grafana.Provider


class Dashboards(pulumi.ComponentResource):
    """Every dashboard in `dashboards/`, each in its fixed-UID folder."""

    def __init__(
        self, name: str, args: DashboardsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llm-o11y:dashboards:Dashboards", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.folders = {
            folder.uid: grafana.oss.Folder(
                f"{name}-{folder.uid}", uid=folder.uid, title=folder.title, opts=child
            )
            for folder in folders()
        }
        self.dashboards = {
            spec.uid: grafana.oss.Dashboard(
                f"{name}-{spec.uid}",
                folder=self.folders[spec.folder.uid].uid,
                config_json=json.dumps(render(spec.build()), sort_keys=True),
                overwrite=True,
                opts=child,
            )
            for spec in DASHBOARDS
        }
        self.register_outputs({"dashboards": sorted(self.dashboards)})

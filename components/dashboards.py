"""Folders and dashboards as Grafana resources, identical on both targets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from dashboards import DASHBOARDS, folders, render_all
from vocabulary.pricing import PricingTable


@dataclass(frozen=True)
class DashboardsArgs:
    provider: grafana.Provider
    # The prices the panels quote and the unpriced-model panel checks against.
    pricing: PricingTable


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
        folder_of = {spec.uid: spec.folder.uid for spec in DASHBOARDS}
        self.dashboards = {
            uid: grafana.oss.Dashboard(
                f"{name}-{uid}",
                folder=self.folders[folder_of[uid]].uid,
                config_json=json.dumps(model, sort_keys=True),
                overwrite=True,
                opts=child,
            )
            for uid, model in render_all(args.pricing).items()
        }
        self.register_outputs({"dashboards": sorted(self.dashboards)})

"""llm-o11y: LLM cost, token, latency and error observability, as one Pulumi program."""

import pulumi

from components.alerting import Alerting, AlertingArgs
from components.dashboards import Dashboards, DashboardsArgs
from components.datasources import Datasources, DatasourcesArgs
from components.settings import load_settings
from components.target import build_target

settings = load_settings()
target = build_target(settings)

datasources = Datasources("datasources", DatasourcesArgs(target.endpoints, target.grafana_provider))
dashboards = Dashboards(
    "dashboards",
    DashboardsArgs(target.grafana_provider),
    pulumi.ResourceOptions(depends_on=[datasources]),
)
alerting = Alerting(
    "alerting",
    AlertingArgs(
        settings.alerting,
        target.grafana_provider,
        recording_datasource_uid=target.recording_datasource_uid,
    ),
    pulumi.ResourceOptions(depends_on=[datasources, dashboards]),
)

for key, value in {**target.exports, **alerting.exports}.items():
    pulumi.export(key, value)

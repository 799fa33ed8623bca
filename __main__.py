"""llm-o11y: LLM cost, token, latency and error observability, as one Pulumi program."""

import pulumi

from components.alerting import Alerting, AlertingArgs
from components.cloud_stack import CloudStack, CloudStackArgs
from components.dashboards import Dashboards, DashboardsArgs
from components.datasources import Datasources, DatasourcesArgs
from components.local_stack import LocalStack, LocalStackArgs
from components.settings import Settings, load_settings
from components.target import Target
from vocabulary.pricing import load_pricing


def build_target(settings: Settings) -> Target:
    """The target's infrastructure; the only place that knows local from cloud."""
    if settings.target == "cloud":
        return CloudStack("cloud", CloudStackArgs.from_settings(settings)).target
    return LocalStack("local", LocalStackArgs.from_settings(settings)).target


settings = load_settings()
pricing = load_pricing()  # read once, passed to the dashboards, alert and recording rules
target = build_target(settings)

datasources = Datasources("datasources", DatasourcesArgs(target.endpoints, target.grafana_provider))
dashboards = Dashboards(
    "dashboards",
    DashboardsArgs(target.grafana_provider, pricing),
    pulumi.ResourceOptions(depends_on=[datasources]),
)
alerting = Alerting(
    "alerting",
    AlertingArgs(
        settings.alerting,
        target.grafana_provider,
        pricing,
        recording_datasource_uid=target.recording_datasource_uid,
    ),
    pulumi.ResourceOptions(depends_on=[datasources, dashboards]),
)

for key, value in {**target.exports, **alerting.exports}.items():
    pulumi.export(key, value)

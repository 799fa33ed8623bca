"""The OCB-built OpenTelemetry Collector the tests run: its manifest and its cached build."""

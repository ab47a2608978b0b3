"""Test helpers: real local sinks, the service as a child process, waiting, the Grafana builder,
promtool."""

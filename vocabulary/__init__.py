"""The one vocabulary of signals and measures: names, windows, the counting method, measures and
the recording rules they read.

How a counter is counted, once for everything (dashboards, alert rules, the report, tests):

1. Per series, its growth in a window is the last sample in the window minus the last sample
   before it (`observed_increase`, vocabulary/windows.py): no extrapolation, so series that live
   minutes (one per Claude Code session) are not overcounted; a series born in the window counts
   whole; a window with a counter reset falls back to increase().
2. The recording rules (vocabulary/recording.py) take that growth for every 5-minute window
   ending a minute before evaluation and sum it over the processes of a session or app.
3. A measure over any range (vocabulary/measures.py) sums the recorded windows in it:
   `sum_over_time()`, then `sum by` the labels the panel, rule or report groups by.

Modules: names (metric, label and stream names), windows, pricing (the pricing table and the
PromQL that prices tokens), recording (the rules), measures (spend, tokens, requests, errors,
latency, sessions).
"""

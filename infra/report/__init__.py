"""The auditors' view: the declared-access report and the access diff between two plans.

`declared` reads what the offline plan declares, `access` joins it with the
access model into one report (plain data), `render_*` turn that report into
HTML, Markdown, CSV or JSON, and `diff` compares two reports. Nothing here
imports Pulumi or touches the network.
"""

"""Reputation as a signal (docs/reputation.md): the sending addresses and active sender domains looked up on DNS
blocklists, and each active domain's DKIM, SPF, DMARC and MX checked in DNS, on a polite schedule, by the exporter;
the results are exporter gauges that alert rules page on."""

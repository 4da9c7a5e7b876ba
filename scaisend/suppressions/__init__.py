"""Suppression lists and ASM groups (spec §3.6, §6.7)."""

"""Suppression lists and ASM groups (docs/suppressions.md, docs/compose.md)."""

"""Pure drawing: data + size + theme -> Rich Text. Used by the Textual app and headless commands.

Owns: every chart, sparkline and histogram renderer, their numbers/ticks/smoothing helpers.
Must not import: textual, or tuiboard.ui / tuiboard.cli (rich and numpy only, plus core.types).
"""

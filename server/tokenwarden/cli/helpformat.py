"""An argument parser whose ``--help`` starts with what the command does, then its usage."""

from __future__ import annotations

import argparse
from typing import Any


class HelpFirstParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with a one-line summary and the description above usage."""

    def __init__(self, *args: Any, summary: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summary = summary

    def format_help(self) -> str:
        """The summary and description first, then argparse's usage and option list."""
        formatter = self._get_formatter()
        formatter.add_text(self.summary)
        formatter.add_text(self.description)
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups)
        for group in self._action_groups:
            formatter.start_section(group.title)
            formatter.add_text(group.description)
            formatter.add_arguments(group._group_actions)
            formatter.end_section()
        formatter.add_text(self.epilog)
        return formatter.format_help()

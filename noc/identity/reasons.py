"""A refusal the person reads, in Chinese and English, with a stable code for programs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def text(self, locale: str = "zh-CN") -> str:
        return self.en if locale.startswith("en") else self.zh

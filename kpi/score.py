"""Points per indicator and the deduction in words (zh/en), by the configured rules. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kpi.compute import Figure
from kpi.model import NAMES, Rule, Rules


@dataclass(frozen=True)
class Points:
    id: str
    points: float | None  # None: left out (n/a, or no data with the rule ``exclude``)
    max: float
    bonus: bool
    why_zh: str
    why_en: str


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def score_one(fig: Figure, rule: Rule) -> Points:
    zh, en = NAMES[fig.id]
    bonus = rule.kind == "bonus"
    if fig.status == "n/a":
        return Points(fig.id, None, rule.points, bonus, "不适用", "not applicable")
    if fig.status == "no_data" and rule.kind == "rate":
        got = {"full": rule.points, "zero": 0.0}.get(rule.no_data)
        words = {"full": ("满分", "full points"), "zero": ("0分", "no points")}
        w_zh, w_en = words.get(rule.no_data, ("不参与计分", "left out of the total"))
        return Points(
            fig.id,
            got,
            rule.points,
            bonus,
            f"无数据（分母为0），{w_zh}",
            f"no data (nothing to count): {w_en}",
        )
    if rule.kind == "rate":
        value = fig.value or 0.0
        short = max(0.0, round((rule.target - value) * 100, 6))
        got = round(max(0.0, rule.points - short * rule.per_point), 2)
        if short <= 0:
            return Points(
                fig.id,
                got,
                rule.points,
                bonus,
                f"{zh} {_pct(value)}（{fig.numerator}/{fig.denominator}），达到目标 {_pct(rule.target)}，满分",
                f"{en} {_pct(value)} ({fig.numerator}/{fig.denominator}) meets the target "
                f"{_pct(rule.target)}: full points",
            )
        lost = round(rule.points - got, 2)
        return Points(
            fig.id,
            got,
            rule.points,
            bonus,
            f"{zh} {_pct(value)}（{fig.numerator}/{fig.denominator}），低于目标 {_pct(rule.target)} "
            f"{short:.2f} 个百分点，每个百分点扣 {rule.per_point:g} 分，扣 {lost:g} 分",
            f"{en} {_pct(value)} ({fig.numerator}/{fig.denominator}) is {short:.2f} points below "
            f"the target {_pct(rule.target)}; {rule.per_point:g} off per point: {lost:g} off",
        )
    count = fig.count or 0
    if bonus:
        got = float(min(rule.points, count))
        return Points(
            fig.id,
            got,
            rule.points,
            True,
            f"表扬 {count} 次，每次加 1 分，最多 {rule.points:g} 分：加 {got:g} 分",
            f"{count} commendation(s), +1 each up to {rule.points:g}: +{got:g}",
        )
    got = round(max(0.0, rule.points - count * rule.points_per_item), 2)
    lost = round(rule.points - got, 2)
    return Points(
        fig.id,
        got,
        rule.points,
        False,
        f"{zh} {count} 项，每项扣 {rule.points_per_item:g} 分，扣 {lost:g} 分"
        if count
        else f"{zh} 无扣分项，满分",
        f"{en}: {count} item(s), {rule.points_per_item:g} off each: {lost:g} off"
        if count
        else f"{en}: nothing to deduct, full points",
    )


@dataclass(frozen=True)
class Scorecard:
    items: list[Points]
    base: float  # out of 100 (scaled when an indicator is left out)
    bonus: float
    total: float


def scorecard(figures: list[Figure], rules: Rules) -> Scorecard:
    items = [score_one(f, rules.rules[f.id]) for f in figures]
    counted = [p for p in items if not p.bonus and p.points is not None]
    possible = sum(p.max for p in counted)
    full = sum(p.max for p in items if not p.bonus)
    got = sum(p.points for p in counted)
    base = round(got * full / possible, 2) if possible else 0.0
    bonus = sum(p.points or 0.0 for p in items if p.bonus)
    return Scorecard(items, base, bonus, round(base + bonus, 2))

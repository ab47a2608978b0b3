"""The SIP check's settings (strict: unknown keys are config errors) and its deadline."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from noc.core.units import Duration

DEFAULT_PORT = 5060
DEFAULT_ALIVE_CODES: list[int | str] = ["2xx", 401, 403, 404, 405, 407, 480, 486]


class SipParams(BaseModel):
    """Per-check settings of the ``sip`` probe (strict: unknown keys are config errors)."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["udp", "tcp"] = "udp"
    timeout: Duration = 2.0
    alive_codes: list[int | str] = Field(default_factory=lambda: list(DEFAULT_ALIVE_CODES))

    @field_validator("alive_codes")
    @classmethod
    def _check_codes(cls, codes: list[int | str]) -> list[int | str]:
        out: list[int | str] = []
        for code in codes:
            if isinstance(code, str) and code.isdigit():
                code = int(code)
            if isinstance(code, int) and not isinstance(code, bool) and 200 <= code <= 699:
                out.append(code)
            elif (
                isinstance(code, str)
                and len(code) == 3
                and code[0] in "23456"
                and code[1:].lower() == "xx"
            ):
                out.append(code.lower())
            else:
                raise ValueError(
                    f"{code!r} is not a final SIP status (200-699) or a class like '2xx'"
                )
        return out

    def is_alive(self, status: int) -> bool:
        return status in self.alive_codes or f"{status // 100}xx" in self.alive_codes


def as_params(params: Any) -> SipParams:
    """``params`` as SipParams: the defaults for None, validated from a mapping."""
    return params if isinstance(params, SipParams) else SipParams.model_validate(params or {})


def deadline(params: SipParams) -> float:
    """One transaction ends by the timeout whatever happens; then a second's margin."""
    return params.timeout + 1.0

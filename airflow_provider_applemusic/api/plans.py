"""
Hook operations as plans: generators that yield the requests they need and are sent the answers,
so that one description of each operation is driven by the sync hook (:func:`run_plan`) and by
the async hook (:func:`arun_plan`) alike. A failed request is thrown into the plan, which may
catch it (a 404 that means "none", a truncation to check) or let it go up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from airflow_provider_applemusic.exceptions import AppleMusicError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from airflow_provider_applemusic.transport.transport import Request

_T = TypeVar("_T")


@dataclass(frozen=True)
class Batch:
    """
    Requests a plan may have answered in any order, at once where the driver can: the plan is
    sent a list of their answers (an :class:`AppleMusicError` in place of a failed one). The sync
    driver sends them one after the other and stops at the first failure (the rest get it too).
    """

    requests: tuple[Request, ...]


#: yields the requests it needs (one, or a :class:`Batch`), is sent each answer, returns its result
Plan: TypeAlias = Generator["Request | Batch", Any, _T]


def run_plan(plan: Plan[_T], send: Callable[[Request], Any]) -> _T:
    """Drive ``plan`` with a sync ``send``; return what it returns."""
    try:
        step = next(plan)
        while True:
            try:
                answer = _answer_batch(step, send) if isinstance(step, Batch) else send(step)
            except AppleMusicError as err:
                step = plan.throw(err)
            else:
                step = plan.send(answer)
    except StopIteration as done:
        return done.value


async def arun_plan(plan: Plan[_T], send: Callable[[Request], Awaitable[Any]]) -> _T:
    """Drive ``plan`` with an async ``send`` (a :class:`Batch` goes out at once); return what it returns."""
    try:
        step = next(plan)
        while True:
            try:
                if isinstance(step, Batch):
                    answer: Any = await asyncio.gather(
                        *(send(r) for r in step.requests), return_exceptions=True
                    )
                    _reraise_foreign(answer)
                else:
                    answer = await send(step)
            except AppleMusicError as err:
                step = plan.throw(err)
            else:
                step = plan.send(answer)
    except StopIteration as done:
        return done.value


def _answer_batch(batch: Batch, send: Callable[[Request], Any]) -> list[Any]:
    answers: list[Any] = []
    for request in batch.requests:
        try:
            answers.append(send(request))
        except AppleMusicError as err:
            return answers + [err] * (len(batch.requests) - len(answers))
    return answers


def _reraise_foreign(answers: list[Any]) -> None:
    """A batch's answers carry the provider's errors; anything else (a bug, a cancellation) goes up."""
    for answer in answers:
        if isinstance(answer, BaseException) and not isinstance(answer, AppleMusicError):
            raise answer

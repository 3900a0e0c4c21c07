"""Waiting for a busy profile lock: fast while a renewal is likely, cheap when it is stuck."""

from tokenwarden.registry import LOCK_POLL_MAX_SECONDS, LOCK_POLL_SECONDS, lock_poll_interval


def polls_while_waiting(seconds: float) -> int:
    waited, polls = 0.0, 0
    while waited < seconds:
        waited += lock_poll_interval(waited)
        polls += 1
    return polls


def test_a_lock_held_for_a_renewal_is_tried_every_20_ms():
    assert lock_poll_interval(0.0) == LOCK_POLL_SECONDS
    assert lock_poll_interval(0.45) == LOCK_POLL_SECONDS


def test_a_lock_held_by_a_stopped_process_is_tried_a_few_times_a_second():
    assert lock_poll_interval(10.0) == LOCK_POLL_MAX_SECONDS
    # The whole 30 s lock timeout: was 1500 tries at one each 20 ms.
    assert polls_while_waiting(30.0) < 160

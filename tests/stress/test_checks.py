"""The history check itself: it must catch each anomaly it claims to catch."""

from tests.stress.checks import FAIL, INFO, OK, History, Op, check


def put(tag: str, outcome: str = OK, *, removes: str = "", if_match: str | None = None) -> Op:
    status = {OK: 200, FAIL: 412, INFO: None}[outcome]
    dropped = frozenset({removes}) if removes else frozenset()
    return Op(0, "put", frozenset({tag}), dropped, outcome, status, if_match)


def history(*ops: Op, reads: tuple[set[str], ...] = ()) -> History:
    log = History()
    for op in ops:
        log.record(op)
    for seen in reads:
        log.observe(seen)
    return log


def test_a_clean_history_is_safe() -> None:
    verdict = check(history(put("a"), put("b", FAIL), put("b"), put("c", removes="a")), {"b", "c"})
    assert verdict.safe
    assert (verdict.acknowledged, verdict.refused_412) == (3, 1)


def test_an_acknowledged_tag_missing_at_the_end_is_lost() -> None:
    verdict = check(history(put("a"), put("b")), {"b"})
    assert verdict.lost == {"a"}
    assert not verdict.safe


def test_an_acknowledged_removal_undone_is_resurrected() -> None:
    verdict = check(history(put("a"), put("b", removes="a")), {"a", "b"})
    assert verdict.resurrected == {"a"}
    assert not verdict.safe


def test_a_refused_tag_that_was_seen_is_phantom() -> None:
    verdict = check(history(put("a"), put("b", FAIL), reads=({"a", "b"},)), {"a"})
    assert verdict.phantom == {"b"}
    assert not verdict.safe


def test_a_tag_in_doubt_may_or_may_not_be_there() -> None:
    assert check(history(put("a", INFO)), {"a"}).safe
    assert check(history(put("a", INFO)), set()).safe


def test_two_acknowledged_writes_from_one_etag_are_stale() -> None:
    verdict = check(history(put("a", if_match='"1"'), put("b", if_match='"1"')), {"a", "b"})
    assert verdict.stale_acknowledgements == 1
    assert not verdict.safe


def test_a_response_that_did_not_show_the_write_is_counted() -> None:
    log = history(Op(0, "put", frozenset({"a"}), frozenset(), OK, 200, None, False))
    assert check(log, {"a"}).echo_mismatches == 1


def test_server_errors_and_other_refusals_are_counted_apart() -> None:
    log = history(
        Op(0, "put", frozenset({"a"}), frozenset(), FAIL, 503),
        Op(0, "put", frozenset({"a"}), frozenset(), FAIL, 422),
        put("a"),
    )
    verdict = check(log, {"a"})
    assert (verdict.server_errors, verdict.other_failures, verdict.safe) == (1, 1, True)

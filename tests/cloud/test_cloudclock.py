"""The cloud's clock is learned from Date headers: skew, time scale, whole seconds."""

from __future__ import annotations

import asyncio
from email.utils import format_datetime

import pytest

from planner.clock import VirtualClock, to_datetime
from planner.cloud.cloudclock import CloudClock


def _date(ts: float) -> str:
    return format_datetime(to_datetime(int(ts)), usegmt=True)  # whole seconds, as a gateway sends


def _observe(cc: CloudClock, client: VirtualClock, cloud_at: float) -> None:
    t = client.now()
    cc.observe_date(_date(cloud_at), t, t)


def test_before_any_answer_the_cloud_clock_is_ours() -> None:
    client = VirtualClock(1_800_000_000.0)
    cc = CloudClock(client)
    assert cc.now() == client.now() and cc.rate == 1.0


@pytest.mark.parametrize("skew", [-3600.0, -7.0, 0.0, 42.0, 86400.0])
def test_a_skewed_cloud_is_read_to_within_a_second(skew: float) -> None:
    client = VirtualClock(1_800_000_000.3)
    cc = CloudClock(client)
    for _ in range(50):
        _observe(cc, client, client.now() + skew)
        client.advance(3.7)
    assert cc.rate == 1.0  # a real cloud runs at our pace: only the offset differs
    assert cc.now() - client.now() == pytest.approx(skew, abs=1.0)


@pytest.mark.parametrize("scale", [60.0, 600.0, 3000.0])
def test_a_time_scaled_simulator_is_learned_from_its_headers(scale: float) -> None:
    client = VirtualClock(1_800_000_000.0)
    cc = CloudClock(client)
    origin = 1_790_000_000.0
    start = client.now()
    for _ in range(40):
        _observe(cc, client, origin + (client.now() - start) * scale)
        client.advance(0.05)
    assert cc.rate == pytest.approx(scale, rel=0.02)
    truth = origin + (client.now() - start) * scale
    assert cc.now() == pytest.approx(truth, abs=0.02 * scale + 2.0)


def test_sleeping_waits_cloud_seconds_on_our_clock() -> None:
    client = VirtualClock(1_800_000_000.0)
    cc = CloudClock(client)
    for i in range(30):
        _observe(cc, client, 1_000_000.0 + i * 0.1 * 600.0)
        client.advance(0.1)
    before = client.now()
    asyncio.run(cc.sleep(600.0))
    assert client.now() - before == pytest.approx(1.0, rel=0.05)


def test_the_cloud_clock_never_goes_back() -> None:
    client = VirtualClock(1_800_000_000.0)
    cc = CloudClock(client)
    _observe(cc, client, client.now() + 100.0)
    first = cc.now()
    _observe(cc, client, client.now() + 10.0)  # a later answer says the cloud is behind
    assert cc.now() >= first


def test_a_bad_date_header_is_ignored() -> None:
    client = VirtualClock(1_800_000_000.0)
    cc = CloudClock(client)
    for bad in ("", "yesterday", "Mon, 99 Foo 2026 99:99:99 GMT", "Tue, 01 Dec 2026 10:00:00"):
        cc.observe_date(bad, client.now(), client.now())
    assert cc.observations == 0 and cc.now() == client.now()


@pytest.mark.parametrize("skew", [1800.37, -0.81, 12.5])
def test_frequent_answers_read_the_cloud_clock_to_a_fraction_of_a_second(skew: float) -> None:
    """Answers every 0.2 s: the turn of each second pins the cloud's time. Taking only
    the first answer of each second at its middle read it 0.4 s ahead (restores of a
    few seconds then looked half a second later than they were seen)."""
    client = VirtualClock(1_800_000_000.05)
    cc = CloudClock(client)
    for _ in range(300):
        _observe(cc, client, client.now() + skew)
        client.advance(0.2)
    assert cc.now() - client.now() == pytest.approx(skew, abs=0.12)

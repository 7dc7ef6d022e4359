"""A small HTTP/1.1 load generator: N keep-alive connections on loopback, each sending its next request as
soon as the last answer arrived, for a fixed time. Raw asyncio streams, so the client spends far less CPU
per request than the servers it measures (it shares their two cores)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """What a run saw: answers per second and latency percentiles in milliseconds, by status code."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run_load(port: int, paths: Iterator[str], *, connections: int, seconds: float, user_agent: str) -> Load:
    """GET the paths (shared round-robin by every connection) against 127.0.0.1:port for `seconds`."""
    return asyncio.run(_run(port, paths, connections, seconds, user_agent))


async def _run(port: int, paths: Iterator[str], connections: int, seconds: float, agent: str) -> Load:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    deadline = started + seconds
    clients = [_client(port, paths, deadline, agent, latencies, statuses) for _ in range(connections)]
    await asyncio.gather(*clients)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Load(len(latencies), elapsed, _percentile(latencies, 0.50), _percentile(latencies, 0.99), statuses)


async def _client(
    port: int,
    paths: Iterator[str],
    deadline: float,
    agent: str,
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            path = next(paths)
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {agent}\r\n\r\n"
            sent = time.perf_counter()
            writer.write(request.encode())
            status = await _response(reader)
            latencies.append((time.perf_counter() - sent) * 1000)
            statuses[status] += 1
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> int:
    """Read one response (status line, headers, Content-Length body); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def cycle(paths: list[str]) -> Iterator[str]:
    """The paths over and over, shared by every connection."""
    return itertools.cycle(paths)

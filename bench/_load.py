"""A small closed-loop HTTP/1.1 load generator, used by bench/api.py when `wrk` is not installed.

    python bench/_load.py SPEC.json      # prints one JSON line: requests, errors, rps, latency percentiles

SPEC: {"host", "port", "connections", "duration_s", "requests": [[method, path, {headers}, body], ...]}.
Each connection keeps one socket alive and cycles through the requests (offset by its index), one at a
time, like wrk. Runs in its own process so it never shares an interpreter with a server under test.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


def _encode(host: str, port: int, method: str, path: str, headers: dict[str, str], body: str) -> bytes:
    payload = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(payload)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    index: int, spec: dict[str, Any], requests: list[bytes], deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
    position = index % len(requests)
    try:
        while True:
            start = time.perf_counter()
            if start >= deadline:
                return
            writer.write(requests[position])
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors[0] += 1
            position = (position + 1) % len(requests)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors[0] += 1
    finally:
        writer.close()


async def run(spec: dict[str, Any]) -> dict[str, float]:
    requests = [_encode(spec["host"], spec["port"], *request) for request in spec["requests"]]
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter()
    deadline = started + float(spec["duration_s"])
    await asyncio.gather(
        *(_connection(i, spec, requests, deadline, latencies, errors) for i in range(int(spec["connections"])))
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    return {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    try:
        import uvloop
    except ImportError:
        print(json.dumps(asyncio.run(run(spec))))
    else:
        print(json.dumps(uvloop.run(run(spec))))


if __name__ == "__main__":
    main()

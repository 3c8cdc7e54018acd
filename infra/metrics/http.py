"""The collectors' HTTP client: urllib3 with retries, rate-limit waits that are always bounded.

- 5xx bursts and dropped or truncated responses are retried by urllib3's `Retry`
  (exponential backoff; `Content-Length` enforced, so a cut body is a read error);
- a `Retry-After` on 403 (GitHub's secondary rate limit), 429 or 503 is honoured
  by `Retry` up to `max_wait` seconds (`retry_after_max`);
- a primary rate limit without `Retry-After` (GitHub: 403/429 with
  `x-ratelimit-remaining: 0` and `x-ratelimit-reset` epoch seconds; PagerDuty:
  429 with `ratelimit-reset` seconds) waits until the reset when that is at most
  `max_wait` away, else fails naming the wait; a page that leaves
  `x-ratelimit-remaining: 0` makes the next request wait the same way;
- a body that is not JSON is fetched again once, then fails.

`http://` base URLs work (the tests' loopback stand-ins); `pool` may be any object
with urllib3's `request()` (the recorded-response replay of `--fixtures`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

Params = Sequence[tuple[str, str | int]]


class ApiError(Exception):
    """A request that failed after its retries, or a rate limit longer than the bound."""


class BoundedRetry(Retry):
    # GitHub's secondary rate limit answers 403 with Retry-After (docs: "rate limits for the REST API").
    RETRY_AFTER_STATUS_CODES = frozenset({403, 413, 429, 503})

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # noqa: ANN001, ANN201 - urllib3's signature
        """A Retry-After beyond the bound is not waited for at all: the answer goes back to the client, which fails."""
        value = response.headers.get("Retry-After") if response is not None else None
        if value and _seconds(value, time.time()) > self.retry_after_max:
            raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {value} is over {self.retry_after_max:g} s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _seconds(retry_after: str, now: float) -> float:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110); unparseable counts as 0."""
    if retry_after.strip().isdigit():
        return float(retry_after)
    try:
        return parsedate_to_datetime(retry_after).timestamp() - now
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: object


def retry_policy(max_wait: float, backoff: float) -> BoundedRetry:
    return BoundedRetry(
        total=8, connect=3, read=3, status=4,
        status_forcelist=frozenset({500, 502, 503, 504}),
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff, backoff_max=max_wait,
        respect_retry_after_header=True, retry_after_max=max_wait,
        raise_on_status=False,
    )


class HttpClient:
    """GET JSON from one API; counts requests; see the module docstring for retries and waits."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        max_wait: float = 60.0,
        backoff: float = 0.5,
        pool: object | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": "opshub-metrics", **headers}
        self._max_wait = max_wait
        self._retry = retry_policy(max_wait, backoff)
        self._pool = pool or urllib3.PoolManager(timeout=urllib3.Timeout(connect=10.0, read=timeout))
        self._sleep = sleep
        self._clock = clock
        self._resume_at = 0.0
        self.requests = 0

    def url(self, path_or_url: str, params: Params = ()) -> str:
        url = path_or_url if "://" in path_or_url else f"{self.base_url}{path_or_url}"
        return f"{url}{'&' if '?' in url else '?'}{urlencode(list(params))}" if params else url

    def get(self, path_or_url: str, params: Params = ()) -> Response:
        url = self.url(path_or_url, params)
        for attempt in range(3):
            self._wait_for_reset(url)
            raw = self._request(url)
            headers = {k.lower(): v for k, v in raw.headers.items()}
            wait = self._rate_limit_wait(raw.status, headers)
            if wait is not None:
                self._resume_at = self._clock() + wait
                continue
            if raw.status >= 400:
                raise ApiError(f"GET {url}: HTTP {raw.status}: {_message(raw.data)}")
            if headers.get("x-ratelimit-remaining") == "0":
                self._resume_at = self._reset_at(headers) or 0.0
            try:
                body = raw.parsed if hasattr(raw, "parsed") else json.loads(raw.data or b"null")  # replay: already parsed
                return Response(url, raw.status, headers, body)
            except ValueError:
                if attempt == 2:
                    raise ApiError(f"GET {url}: the response is not JSON (truncated or malformed)") from None
        raise ApiError(f"GET {url}: still rate limited after waiting {self._max_wait:g} s more than once")

    def _request(self, url: str):
        self.requests += 1
        try:
            return self._pool.request("GET", url, headers=self._headers, retries=self._retry, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise ApiError(f"GET {url}: {exc}") from None

    def _wait_for_reset(self, url: str) -> None:
        wait = self._resume_at - self._clock()
        if wait > self._max_wait:
            raise ApiError(f"GET {url}: rate limited for {wait:.0f} s more, over the {self._max_wait:g} s bound")
        if wait > 0:
            self._sleep(wait)
            self._resume_at = 0.0

    def _reset_at(self, headers: dict[str, str]) -> float | None:
        if "retry-after" in headers:
            return self._clock() + _seconds(headers["retry-after"], self._clock())
        if "x-ratelimit-reset" in headers:  # GitHub: epoch seconds
            return float(headers["x-ratelimit-reset"])
        if "ratelimit-reset" in headers:  # PagerDuty: seconds from now
            return self._clock() + float(headers["ratelimit-reset"])
        return None

    def _rate_limit_wait(self, status: int, headers: dict[str, str]) -> float | None:
        """Seconds to wait before retrying a rate-limited answer, or None when it is not one."""
        limited = status == 429 or (status == 403 and (headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers))
        if not limited:
            return None
        try:
            reset = self._reset_at(headers)
        except ValueError:
            reset = None
        return max(reset - self._clock(), 0.0) if reset is not None else self._max_wait


def _message(data: bytes) -> str:
    try:
        body = json.loads(data)
    except ValueError:
        return data[:200].decode(errors="replace")
    if isinstance(body, dict):
        error = body.get("error")
        return str(body.get("message") or (error.get("message") if isinstance(error, dict) else error) or body)[:200]
    return str(body)[:200]

"""``s3://bucket/prefix``: any S3-compatible object store, through obstore (Rust's
object_store: conditional create-if-absent and compare-and-swap on the etag; imports in about
10 ms). Imported only when an s3 remote is used, never by the hook path.

Where the server is and who we are come from the usual AWS places: the environment
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION`` /
``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``, ``AWS_PROFILE``), then ``~/.aws/credentials`` and
``~/.aws/config`` (``AWS_SHARED_CREDENTIALS_FILE``, ``AWS_CONFIG_FILE``) for the profile. The URL
may also carry ``?endpoint=http://host:port&region=NAME`` for a self-hosted store.
"""

from __future__ import annotations

import configparser
import datetime
import os
import time
import urllib.parse
from collections.abc import Iterable
from typing import Any
from typing import Callable

from git_snapshot.errors import UserError
from git_snapshot.store.backend import Backend
from git_snapshot.store.backend import BackendError
from git_snapshot.store.backend import Conflict
from git_snapshot.store.backend import Info
from git_snapshot.store.backend import NotFound


def parse_s3_url(url: str) -> tuple[str, str, dict[str, str]]:
    """(bucket, prefix, options from the query)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise UserError(f"bad remote URL {url!r}: an S3 remote is s3://BUCKET[/PREFIX]")
    query = dict(urllib.parse.parse_qsl(parsed.query))
    unknown = set(query) - {"endpoint", "region", "profile"}
    if unknown:
        raise UserError(
            f"bad remote URL {url!r}: unknown option {sorted(unknown)[0]!r} "
            "(known: endpoint, region, profile)"
        )
    return parsed.netloc, parsed.path.strip("/"), query


def _aws_files(profile: str) -> dict[str, str]:
    """Keys of *profile* in ~/.aws/credentials and ~/.aws/config (credentials win)."""
    home = os.path.expanduser("~")
    found: dict[str, str] = {}
    places = (
        (os.environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"), True),
        (
            os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
            or os.path.join(home, ".aws", "credentials"),
            False,
        ),
    )
    for path, is_config in places:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error):
            continue
        section = f"profile {profile}" if is_config and profile != "default" else profile
        if parser.has_section(section):
            found.update({k: v for k, v in parser.items(section)})
    return found


def credentials(query: dict[str, str]) -> dict[str, Any]:
    env = os.environ
    profile = query.get("profile") or env.get("AWS_PROFILE") or "default"
    files = _aws_files(profile)

    def pick(envs: tuple[str, ...], key: str) -> str | None:
        for e in envs:
            if env.get(e):
                return env[e]
        return files.get(key)

    out: dict[str, Any] = {
        "access_key_id": pick(("AWS_ACCESS_KEY_ID",), "aws_access_key_id"),
        "secret_access_key": pick(("AWS_SECRET_ACCESS_KEY",), "aws_secret_access_key"),
        "session_token": pick(("AWS_SESSION_TOKEN",), "aws_session_token"),
        "region": query.get("region")
        or pick(("AWS_REGION", "AWS_DEFAULT_REGION"), "region")
        or "us-east-1",
        "endpoint": query.get("endpoint")
        or pick(("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), "endpoint_url"),
    }
    return {k: v for k, v in out.items() if v}


RETRY_WAITS = (0.5, 1.0, 2.0)  # seconds before each of our own extra attempts
SINGLE_PUT = 8 << 20  # larger objects go up in parts of PART bytes (memory: a few parts)
PART = 8 << 20  # S3 allows 10,000 parts: objects up to 80 GB


class S3Backend(Backend):
    def __init__(self, url: str) -> None:
        from obstore.store import S3Store

        self.url = url
        bucket, prefix, query = parse_s3_url(url)
        self._prefix = prefix + "/" if prefix else ""
        creds = credentials(query)
        endpoint = creds.get("endpoint", "")
        self._where = f"s3://{bucket}/{prefix}" + (f" at {endpoint}" if endpoint else "")
        self._endpoint = endpoint or "the S3 endpoint"
        retry = {
            "max_retries": 6,
            "backoff": {
                "init_backoff": datetime.timedelta(milliseconds=100),
                "max_backoff": datetime.timedelta(seconds=5),
                "base": 2.0,
            },
            "retry_timeout": datetime.timedelta(seconds=60),
        }
        client = {
            "allow_http": endpoint.startswith("http://"),
            "connect_timeout": "10s",
            "timeout": "120s",
        }
        try:
            self._store = S3Store(
                bucket,
                conditional_put="etag",
                client_options=client,  # type: ignore[arg-type]
                retry_config=retry,  # type: ignore[arg-type]
                **creds,
            )
        except Exception as exc:
            raise BackendError(f"cannot use {self._where}: {_first_line(exc)}") from None

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """*fn*, tried again after a network failure that object_store's own retries gave up
        on (it does not retry a PUT whose body was cut off twice): every request we make is
        idempotent or conditional, so a repeat is safe. Answers (not found, exists, etag
        mismatch) are never retried."""
        from obstore.exceptions import AlreadyExistsError
        from obstore.exceptions import PermissionDeniedError
        from obstore.exceptions import PreconditionError
        from obstore.exceptions import UnauthenticatedError

        answers = (
            FileNotFoundError,
            AlreadyExistsError,
            PreconditionError,
            PermissionDeniedError,
            UnauthenticatedError,
        )
        for wait in RETRY_WAITS:
            try:
                return fn(*args, **kwargs)
            except answers:
                raise
            except Exception:
                time.sleep(wait)
        return fn(*args, **kwargs)

    def _fail(self, what: str, exc: Exception) -> BackendError:
        why = _what_to_check(exc, self._endpoint)
        return BackendError(f"remote {self._where}: {what} failed: {why}")

    def put(self, name: str, data: bytes) -> None:
        import obstore

        try:
            self._call(obstore.put, self._store, self._prefix + name, data, use_multipart=False)
        except Exception as exc:
            raise self._fail(f"writing {name}", exc) from None

    def put_parts(
        self, name: str, parts: Callable[[], Iterable[bytes]], size: int, if_absent: bool
    ) -> bool:
        """A small object in one PUT (create-if-absent is then atomic); a larger one (a pack)
        as a multipart upload fed from *parts* a part at a time: a single PUT holds the whole
        body in memory (RED39 F1) and S3 refuses one over 5 GB. A multipart upload cannot be
        made conditional here, so *if_absent* looks first: pack names are unique to the
        store that sends them, and its pushes take turns (RemoteStore.pushing)."""
        import obstore

        if size <= SINGLE_PUT:
            return super().put_parts(name, parts, size, if_absent)
        if if_absent and self.head(name) is not None:
            return False

        def upload() -> Any:  # (parts() again for each attempt: an iterator is read once)
            return obstore.put(
                self._store,
                self._prefix + name,
                iter(parts()),
                use_multipart=True,
                chunk_size=PART,
                max_concurrency=2,
            )

        try:
            self._call(upload)
        except Exception as exc:
            raise self._fail(f"writing {name}", exc) from None
        return True

    def put_cas(self, name: str, data: bytes, etag: str | None) -> str:
        import obstore
        from obstore.exceptions import AlreadyExistsError
        from obstore.exceptions import PreconditionError

        mode: Any = "create" if etag is None else {"e_tag": etag}
        try:
            result = self._call(
                obstore.put, self._store, self._prefix + name, data, mode=mode, use_multipart=False
            )
        except (AlreadyExistsError, PreconditionError):
            raise Conflict(name) from None
        except Exception as exc:
            raise self._fail(f"writing {name}", exc) from None
        return str(result.get("e_tag") or "")

    def get(self, name: str) -> bytes:
        import obstore

        try:
            return bytes(self._call(lambda: obstore.get(self._store, self._prefix + name).bytes()))
        except FileNotFoundError:
            raise NotFound(name) from None
        except Exception as exc:
            raise self._fail(f"reading {name}", exc) from None

    def get_range(self, name: str, start: int, end: int) -> bytes:
        import obstore

        if end <= start:
            return b""
        try:
            return bytes(
                self._call(
                    obstore.get_range, self._store, self._prefix + name, start=start, end=end
                )
            )
        except FileNotFoundError:
            raise NotFound(name) from None
        except Exception as exc:
            raise self._fail(f"reading {name}", exc) from None

    def head(self, name: str) -> Info | None:
        import obstore

        try:
            meta = self._call(obstore.head, self._store, self._prefix + name)
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail(f"looking up {name}", exc) from None
        return Info(int(meta["size"]), str(meta.get("e_tag") or ""))

    def list(self, prefix: str) -> dict[str, int]:
        import obstore

        out: dict[str, int] = {}
        cut = len(self._prefix)
        try:
            listed = self._call(
                lambda: list(obstore.list(self._store, prefix=self._prefix + prefix))
            )
            for batch in listed:
                for meta in batch:
                    out[meta["path"][cut:]] = int(meta["size"])
        except Exception as exc:
            raise self._fail(f"listing {prefix}", exc) from None
        return out

    def delete(self, name: str) -> None:
        import obstore

        try:
            self._call(obstore.delete, self._store, self._prefix + name)
        except FileNotFoundError:
            return
        except Exception as exc:
            raise self._fail(f"deleting {name}", exc) from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


CREDENTIALS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and ~/.aws/credentials"


def _what_to_check(exc: Exception, endpoint: str) -> str:
    """The client's one line, without the server's XML body, and what to check next: the
    clock (a request signed too far from the server's time is a 403 too, not a credentials
    problem: RED39 F8), the bucket's name (404 NoSuchBucket: RED39 F9), the credentials
    (refused, or none found: the client then asked the cloud instance metadata address), or the
    endpoint (nothing answered there). The server's error code is in the body, after the
    client's first line."""
    whole = str(exc)
    code, bucket = _xml_field(whole, "Code"), _xml_field(whole, "BucketName")
    text = _first_line(exc).split(" <?xml", 1)[0].rstrip(": ")
    if code == "RequestTimeTooSkewed":
        return (
            "refused because this machine's clock differs from the server's by more than S3 "
            "allows (15 min; RequestTimeTooSkewed): set the clock "
            "right (NTP: timedatectl set-ntp true)"
        )
    if code == "NoSuchBucket":
        which = f"bucket '{bucket}'" if bucket else "the bucket the URL names"
        return (
            f"{which} does not exist at {endpoint}: create it, or check the bucket name in the "
            "URL (s3://BUCKET/PREFIX)"
        )
    if "169.254.169.254" in text:
        return f"no credentials found: set {CREDENTIALS}"
    if "403 Forbidden" in text or "401 Unauthorized" in text or "lacked the necessary" in text:
        status = "403 Forbidden" if "403 Forbidden" in text else "refused"
        return f"{status}: check the credentials ({CREDENTIALS}) and that they may use this bucket"
    if "error sending request" in text:
        return (
            f"no answer from {endpoint}: check the endpoint (?endpoint= in the URL, or "
            "AWS_ENDPOINT_URL), that the server is up and the network"
        )
    return text


def _xml_field(text: str, field: str) -> str:
    """The first ``<field>value</field>`` in the server's error body within *text*, or ""."""
    import re

    found = re.search(rf"<{field}>([^<]*)</{field}>", text)
    return found.group(1) if found else ""

"""What a registry is like, learnt once per run: ``GET /v2/`` picks the base URL (HTTPS,
then plain HTTP for loopback) and learns the auth challenge before the concurrent
requests go out; the credential is looked up meanwhile.

Every base URL is pinged at once and taken in order of preference (HTTPS first): a port
that swallows the TLS handshake then costs one --timeout, not one per URL, where docker
would try them one after another. A credential helper (gcloud, ecr-login) is a
subprocess that can take longer than a ping: it runs off the event loop, bounded by
--timeout. Concurrent callers share the same ping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from inspector.registry.auth import RegistryAuth
from inspector.registry.credentials import Credential, CredentialError, Keychain
from inspector.registry.errors import RegistryError
from inspector.registry.hosts import RegistryHosts
from inspector.registry.model import Status
from inspector.registry.policy import warn_other_host

Ping = Callable[[str], Awaitable[httpx.Response]]  # GET this URL (the client builds it)


@dataclass
class Registry:
    """What one ping taught us about a registry."""

    base: str
    auth: RegistryAuth


class Registries:
    """The pinged registries of one run, each pinged once, on first use."""

    def __init__(
        self,
        hosts: RegistryHosts,
        keychain: Keychain,
        *,
        timeout: float,
        ping: Ping,
        on_token_request: Callable[[], None],
    ) -> None:
        self.hosts = hosts
        self.keychain = keychain
        self.timeout = timeout
        self._ping_request = ping
        self._on_token_request = on_token_request
        self._tasks: dict[str, asyncio.Task[Registry]] = {}

    async def get(self, registry: str) -> Registry:
        task = self._tasks.get(registry)
        if task is None:
            task = asyncio.ensure_future(self._ping(registry))
            self._tasks[registry] = task
        return await asyncio.shield(task)

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    def known(self) -> list[Registry]:
        """The registries whose ping succeeded."""
        return [
            task.result()
            for task in self._tasks.values()
            if task.done() and not task.cancelled() and task.exception() is None
        ]

    async def _ping(self, registry: str) -> Registry:
        bases = self.hosts.base_urls(registry)
        credential = asyncio.ensure_future(self._credential(registry))
        attempts = [asyncio.ensure_future(self._ping_one(base)) for base in bases]
        failures: list[str] = []
        try:
            for base, attempt in zip(bases, attempts, strict=True):
                try:
                    response = await attempt
                except RegistryError as error:
                    failures.append(f"{base}: {error.detail}")
                    continue
                secret = await credential
                if secret is not None:
                    warn_other_host(self.hosts, registry, base)
                auth = RegistryAuth(
                    httpx.URL(base),
                    secret,
                    timeout=self.timeout,
                    on_token_request=self._on_token_request,
                )
                auth.learn(response)
                return Registry(base, auth)
        finally:
            for task in (*attempts, credential):
                task.cancel()
            await asyncio.gather(*attempts, credential, return_exceptions=True)
        raise RegistryError(Status.UNREACHABLE, "; ".join(failures))

    async def _ping_one(self, base: str) -> httpx.Response:
        response = await self._ping_request(f"{base}/v2/")
        await response.aclose()  # only the status and challenge matter: never read a body
        return response

    async def _credential(self, registry: str) -> Credential | None:
        try:
            return await asyncio.to_thread(self.keychain.lookup, registry, timeout=self.timeout)
        except CredentialError as error:
            raise RegistryError(Status.ERROR, str(error)) from None

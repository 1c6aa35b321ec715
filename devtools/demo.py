"""``make demo``: inspector against three real local registries, end to end.

Starts three ``docker-registry`` processes standing for Docker Hub (in token mode, as the
real one is: anonymous pull tokens from a small token server), ``registry.example.com`` and
``mirror.example.org``; seeds them so that the company mirror is stale on one platform and
the partner mirror is missing; writes a registry config mapping the logical names to the
local endpoints; then runs the real CLI (``python -m inspector check`` and ``mirrors``) and
prints what it costs. Every process it starts is stopped on the way out, also on Ctrl-C
and SIGTERM.

``--serve`` (``make demo-serve``) starts and seeds the same registries, plus a builder
image and an app image (for the README's ``builder IMAGE``, ``preflight`` and ``rebase``
examples), writes ``.demo/env.sh`` with the ``export`` lines that point inspector at them,
and keeps them running until Ctrl-C: every command in the README then runs as written.

Exit 0 when the demo ran (the findings it shows are the point), 1 when it could not.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from devtools.localregistry import (
    BINARY,
    PushedImage,
    PushedIndex,
    RegistryProcess,
    TokenServer,
    push_image,
    push_index,
)

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = Path(".demo")  # relative to ROOT, like every path the demo prints
BUILDER = Path("fixtures/demo/builder.toml")
APP = "registry.example.com/acme/app"
BUILDER_IMAGE = "registry.example.com/example/builder:jammy"
APP_IMAGE = "registry.example.com/acme/app:1.0"
COMPANY_RUN = "registry.example.com/example/run:jammy"
PARTNER_RUN = "mirror.example.org/example/run:jammy"
INSPECTOR_AGENT = "inspector/"
INSTALL_HINT = (
    f"{BINARY} (the CNCF distribution registry) is not installed.\n"
    "Install it with:  sudo apt-get install -y docker-registry\n"
    "(Debian/Ubuntu; elsewhere build github.com/distribution/distribution and put the\n"
    " binary on PATH as docker-registry.)"
)


@dataclass(frozen=True)
class Registry:
    name: str  # the logical name users write in image references
    role: str
    process: RegistryProcess


@dataclass(frozen=True)
class World:
    """The running, seeded registries and how to point inspector at them."""

    registries: list[Registry]
    tokens: TokenServer
    config: Path
    env: dict[str, str]


def main(argv: Sequence[str] | None = None) -> int:
    serving = "--serve" in (sys.argv[1:] if argv is None else argv)
    if shutil.which(BINARY) is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    os.chdir(ROOT)
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the finally blocks below stop every process.
    for handled in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(handled, _exit_on_signal)
    try:
        with ExitStack() as stack:
            return _serve(stack) if serving else _run(stack)
    except (KeyboardInterrupt, Signalled) as stop:
        signum = stop.signum if isinstance(stop, Signalled) else signal.SIGINT.value
        print("\ninterrupted: every process the demo started has been stopped", file=sys.stderr)
        return 0 if serving else 128 + signum


class Signalled(BaseException):
    """Raised from a signal handler so that every ``with`` block unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise Signalled(signum)


def start_world(stack: ExitStack) -> World:
    """Start the registries and the token server, seed them, write the registry config."""
    section("Starting three local registries")
    seeder = ("seeder", secrets.token_urlsafe(12))
    tokens = stack.enter_context(TokenServer(anonymous_pull=["example/"], users=dict([seeder])))
    registries = [
        Registry("docker.io", "Docker Hub (token auth)", RegistryProcess(token=tokens)),
        Registry("registry.example.com", "company registry", RegistryProcess()),
        Registry("mirror.example.org", "partner mirror", RegistryProcess()),
    ]
    for registry in registries:
        stack.enter_context(registry.process)
        print(f"  {registry.name:<22} {registry.role:<24} -> {registry.process.url}")
    hub, company, _ = registries

    section("Seeding")
    run_image = seed_index(hub.process, "arm64-v2", auth=seeder)
    stale = seed_index(company.process, "arm64-v1")
    full = push_image(hub.process.url, "example/run-full", "jammy", layer_seed="full", auth=seeder)
    push_image(company.process.url, "example/run-full", "jammy", layer_seed="full")
    builder = seed_builder_image(company.process)
    app = seed_app_image(company.process)
    print(f"  docker.io/example/run:jammy                  index {short(run_image.digest)}")
    print(
        f"  registry.example.com/example/run:jammy       index {short(stale.digest)} (stale arm64)"
    )
    print("  mirror.example.org/example/run:jammy         (not pushed: missing)")
    print(f"  docker.io/example/run-full:jammy             image {short(full.digest)}")
    print(f"  registry.example.com/example/run-full:jammy  image {short(full.digest)}")
    print(f"  {BUILDER_IMAGE:<44} image {short(builder.digest)} (builder)")
    print(f"  {APP_IMAGE:<44} image {short(app.digest)} (app, on an older base)")

    config = write_registry_config(registries)
    env = hermetic_env()
    print(f"\n  registry config: {config}")
    print("  (DOCKER_CONFIG and PACK_HOME point at empty directories under .demo/, so your")
    print("   own credentials and pack config stay out of the demo)")
    return World(registries, tokens, config, env)


def exports(world: World) -> dict[str, str]:
    """What a shell needs to run the README's commands against ``world``."""
    return {
        "INSPECTOR_REGISTRY_CONFIG": str(world.config.resolve()),
        "DOCKER_CONFIG": world.env["DOCKER_CONFIG"],
        "PACK_HOME": world.env["PACK_HOME"],
    }


def _serve(stack: ExitStack) -> int:
    world = start_world(stack)
    lines = [f"export {key}={value}" for key, value in exports(world).items()]
    env_file = WORKDIR / "env.sh"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    section(f"Serving until Ctrl-C. In another shell, here ({ROOT}):")
    print(f"  . {env_file}      # or:")
    for line in lines:
        print(f"  {line}")
    print(f"  inspector builder {BUILDER_IMAGE}", flush=True)
    while True:
        time.sleep(3600)


def _run(stack: ExitStack) -> int:
    world = start_world(stack)
    registries, tokens, config, env = world.registries, world.tokens, world.config, world.env

    tokens.reset()
    before = {r.name: len(inspector_entries(r.process)) for r in registries}
    check_args = ["check", APP, "-c", str(BUILDER), "--registry-config", str(config)]
    check_code, check_seconds = run_cli(check_args, env)
    counts = {
        r.name: Counter(classify(e) for e in inspector_entries(r.process)[before[r.name] :])
        for r in registries
    }
    token_requests = len(tokens.requests)

    mirrors_code, _ = run_cli(
        ["mirrors", "-c", str(BUILDER), "--registry-config", str(config)], env
    )

    section("What `check` cost")
    print(f"  wall time: {check_seconds:.2f} s (whole process, interpreter start-up included)")
    total = 0
    for registry in registries:
        line = ", ".join(f"{n} {kind}" for kind, n in sorted(counts[registry.name].items()))
        total += sum(counts[registry.name].values())
        print(f"  {registry.name:<22} {line}")
    print(f"  token server           {token_requests} token request(s)")
    print(f"  total                  {total} registry requests + {token_requests} token request(s)")

    section("Exit codes")
    print(f"  inspector check:   {check_code} ({meaning(check_code)})")
    print(f"  inspector mirrors: {mirrors_code} ({meaning(mirrors_code)})")
    if {check_code, mirrors_code} <= {0, 1}:
        print("\nDemo done: the stale and the missing mirror above are the findings it is about.")
        return 0
    print("\nDemo failed: inspector did not run cleanly (see above).", file=sys.stderr)
    return 1


def seed_builder_image(registry: RegistryProcess) -> PushedImage:
    """A builder image as ``pack builder create`` labels it: its run image is the company
    registry's copy, mirrored on the partner registry."""
    metadata = {
        "description": "Ubuntu jammy builder",
        "buildpacks": [{"id": "example/node", "version": "1.2.3", "homepage": "https://x.io"}],
        "stack": {"runImage": {"image": COMPANY_RUN, "mirrors": [PARTNER_RUN]}},
        "images": [{"image": COMPANY_RUN, "mirrors": [PARTNER_RUN]}],
        "lifecycle": {"version": "0.20.1", "apis": {"platform": {"supported": ["0.12"]}}},
        "createdBy": {"name": "Pack CLI", "version": "0.40.6"},
    }
    labels = {
        "io.buildpacks.stack.id": "io.buildpacks.stacks.jammy",
        "io.buildpacks.builder.metadata": json.dumps(metadata),
    }
    return push_image(registry.url, "example/builder", "jammy", labels=labels, layer_seed="builder")


def seed_app_image(registry: RegistryProcess) -> PushedImage:
    """An app image built on an older run image: its lifecycle label records that base, so
    ``rebase`` has a new one to move to."""
    old = push_image(registry.url, "example/run", "2024-01", oci=True, layer_seed="amd64-v1")
    config = httpx.get(f"{registry.url}/v2/example/run/blobs/{old.config_digest}").json()
    recorded = {
        "image": COMPANY_RUN,
        "mirrors": [PARTNER_RUN],
        "reference": f"registry.example.com/example/run@{old.digest}",
        "topLayer": config["rootfs"]["diff_ids"][-1],
    }
    metadata = {
        "app": [],
        "buildpacks": [{"key": "example/node", "version": "1.2.3"}],
        "launcher": {},
        "runImage": recorded,
        "stack": {"runImage": {"image": COMPANY_RUN, "mirrors": [PARTNER_RUN]}},
    }
    labels = {"io.buildpacks.lifecycle.metadata": json.dumps(metadata)}
    return push_image(registry.url, "acme/app", "1.0", labels=labels, layer_seed="app")


def seed_index(
    registry: RegistryProcess, arm64_seed: str, *, auth: tuple[str, str] | None = None
) -> PushedIndex:
    """example/run:jammy as an OCI index for linux/amd64 and linux/arm64."""
    children: list[PushedImage] = [
        push_image(registry.url, "example/run", None, oci=True, layer_seed="amd64-v2", auth=auth),
        push_image(
            registry.url,
            "example/run",
            None,
            oci=True,
            layer_seed=arm64_seed,
            platform=("linux", "arm64"),
            auth=auth,
        ),
    ]
    return push_index(registry.url, "example/run", "jammy", children, auth=auth)


def write_registry_config(registries: Sequence[Registry]) -> Path:
    WORKDIR.mkdir(exist_ok=True)
    lines = ["# Written by `make demo`: the logical registry names and where they really are."]
    for registry in registries:
        lines += [f'[registries."{registry.name}"]', f'endpoint = "{registry.process.url}"', ""]
    path = WORKDIR / "registries.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def hermetic_env() -> dict[str, str]:
    docker_config, pack_home = WORKDIR / "docker-config", WORKDIR / "pack-home"
    docker_config.mkdir(parents=True, exist_ok=True)
    pack_home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "INSPECTOR_REGISTRY_CONFIG"}
    env["DOCKER_CONFIG"] = str(docker_config.resolve())
    env["PACK_HOME"] = str(pack_home.resolve())
    return env


def run_cli(args: list[str], env: dict[str, str]) -> tuple[int, float]:
    """Run the real CLI with our stdout/stderr, so what is shown is what a user sees."""
    section("$ inspector " + " ".join(args))
    sys.stdout.flush()
    started = time.perf_counter()
    code = subprocess.run([sys.executable, "-m", "inspector", *args], env=env, check=False)
    return code.returncode, time.perf_counter() - started


def inspector_entries(process: RegistryProcess) -> list[tuple[str, str]]:
    return [
        (e.method, e.path)
        for e in process.access_log_lines()
        if e.user_agent.startswith(INSPECTOR_AGENT)
    ]


def classify(entry: tuple[str, str]) -> str:
    method, path = entry
    if path.rstrip("/") == "/v2":
        return "ping"
    if "/manifests/" in path:
        return f"manifest {method}"
    if "/blobs/" in path:
        return f"blob {method}"
    if "/tags/list" in path:
        return "tag list"  # what a missing one lacks: repository or tag
    return f"other {method}"


def meaning(code: int) -> str:
    return {0: "all good", 1: "findings", 2: "bad input"}.get(code, "unexpected")


def short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def section(title: str) -> None:
    print(f"\n{title}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

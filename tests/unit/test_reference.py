"""Image-reference vectors: distribution/reference and go-containerregistry ``pkg/name``.

Sources (read at the commits in the research notes):

* distribution/reference ``reference_test.go`` (TestReferenceParse, TestWithNameFailure,
  TestDomainAndPath, TestSerialization, TestWithTag, TestParseNamed) and
  ``normalize_test.go`` (TestValidateReferenceName, TestValidateRemoteName,
  TestParseRepositoryInfo, TestParseAnyReference, TestNormalizedSplitHostname,
  TestParseDockerRef, TestParseReferenceWithTagAndDigest);
* google/go-containerregistry ``pkg/name`` ``registry_test.go``, ``repository_test.go``,
  ``tag_test.go``, ``digest_test.go``, ``ref_test.go``.

inspector's grammar is distribution's; its normalization (which registry a reference is on)
is go-containerregistry's, because pack compares ``ref.Context().RegistryStr()``. Where the
two libraries disagree, the vector says so in a ``# ggcr≠distribution:`` comment. The cases:

* registry detection: distribution takes any first component that looks like a host
  (``Uppercase/x``, ``LOCALDOMAIN/x``, ``a/a/…``, ``foo/foo_bar.com``) as the domain; ggcr
  takes it only if it contains ``.`` or ``:`` or is ``localhost`` — so ``Docker/docker`` is an
  (invalid, uppercase) Docker Hub repository and ``foo/x`` is on Docker Hub.
  (``localhost`` is a registry since ggcr v0.21.7; pack 0.40.6 vendors v0.21.5, which treats
  ``localhost/x`` as a Hub repository. The contract fixes the newer rule.)
* the default registry: distribution says ``docker.io`` and rewrites ``index.docker.io`` to
  it; ggcr says ``index.docker.io`` and rewrites only ``docker.io``.
* 64-hex single names: distribution's ParseNormalizedNamed refuses them (ambiguous with an
  image ID); ggcr accepts them, so inspector does.
* tag + digest: ggcr's ``Name()`` drops the tag; distribution keeps both. inspector keeps
  both fields and asks the registry for the digest (``identifier``).

Where inspector is stricter than ggcr (ggcr only checks character sets): path-component
separators (``___``, leading/trailing ``-``/``_``/``.``, ``//``), tags starting with ``.`` or
``-``, registry hosts that are not hostnames (``foo_bar.com``, ``example.com:``), unbracketed
IPv6 and IPv4-in-IPv6 hosts. inspector follows distribution (and the registries, which
enforce it) there. Digests: ggcr only knows ``sha256``; inspector also takes ``sha512``.
"""

from __future__ import annotations

import pytest

from inspector.errors import InputError
from inspector.reference import (
    DEFAULT_REGISTRY,
    Reference,
    ReferenceError,
    parse,
    registry_of,
)

HUB = DEFAULT_REGISTRY  # "index.docker.io"
F64 = "sha256:" + "f" * 64
DIST_DIGEST = "sha256:1234567890098765432112345667890098765432112345667890098765432112"
REDIS = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
BUSYBOX = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"
GGCR_DIGEST = "sha256:" + "deadb33f" * 8  # go-containerregistry's validDigest
SHA512 = "sha512:" + "0123456789abcdef" * 8
HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
SONG = "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"
LONG_NAMESPACE = (
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_" * 4
).rstrip("_") + "/docker"


def v(text, registry, repository, tag="latest", digest=None, id=None):
    """A valid vector: what parse(text) must give. ``tag`` is None for digest-only."""
    return pytest.param(text, registry, repository, tag, digest, id=id or text[:80])


VALID = [
    # --- distribution reference_test.go TestReferenceParse (domain per ggcr) -----------------
    v("test_com", HUB, "library/test_com"),
    v("test.com:tag", HUB, "library/test.com", "tag"),
    v("test.com:5000", HUB, "library/test.com", "5000"),
    v("test.com/repo:tag", "test.com", "repo", "tag"),
    v("test:5000/repo", "test:5000", "repo"),
    v("test:5000/repo:tag", "test:5000", "repo", "tag"),
    v(f"test:5000/repo@{F64}", "test:5000", "repo", None, F64),
    v(f"test:5000/repo:tag@{F64}", "test:5000", "repo", "tag", F64),
    v("lowercase:Uppercase", HUB, "library/lowercase", "Uppercase"),
    # ggcr≠distribution: distribution takes the first "a" as the domain; ggcr: Docker Hub.
    v(
        "a/" * 127 + "a:tag-puts-this-over-max",
        HUB,
        "a/" * 127 + "a",
        "tag-puts-this-over-max",
        id="255-char-path-with-long-tag",
    ),
    v("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux"),
    v(
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "sub-dom1.foo.com",
        "bar/baz/quux",
        "some-long-tag",
    ),
    v(
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io",
        "test.example.com/my-app",
        "test.example.com",
    ),
    v("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com"),
    v(f"xn--7o8h.com/myimage:xn--7o8h.com@{F64}", "xn--7o8h.com", "myimage", "xn--7o8h.com", F64),
    v("foo_bar.com:8080", HUB, "library/foo_bar.com", "8080"),
    # ggcr≠distribution: distribution's domain is "foo"; ggcr: Docker Hub, repo foo/foo_bar.com.
    v("foo/foo_bar.com:8080", HUB, "foo/foo_bar.com", "8080"),
    v("192.168.1.1", HUB, "library/192.168.1.1"),
    v("192.168.1.1:tag", HUB, "library/192.168.1.1", "tag"),
    v("192.168.1.1:5000", HUB, "library/192.168.1.1", "5000"),
    v("192.168.1.1/repo", "192.168.1.1", "repo"),
    v("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo"),
    v("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050"),
    v("[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
    v("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag"),
    v("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo"),
    v("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag"),
    v(f"[2001:db8::1]:5000/repo@{F64}", "[2001:db8::1]:5000", "repo", None, F64),
    v(f"[2001:db8::1]:5000/repo:tag@{F64}", "[2001:db8::1]:5000", "repo", "tag", F64),
    v("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo"),
    v("[::1]:5000/repo", "[::1]:5000", "repo"),
    v(
        "example.com/" + "a" * 255 + ":tag",
        "example.com",
        "a" * 255,
        "tag",
        id="example.com/255-char-repo",
    ),
    # --- TestDomainAndPath / TestNormalizedSplitHostname -------------------------------------
    v("test.com/foo", "test.com", "foo"),
    v("test_com/foo", HUB, "test_com/foo"),
    v("test:8080/foo", "test:8080", "foo"),
    v("test.com:8080/foo", "test.com:8080", "foo"),
    v("test-com:8080/foo", "test-com:8080", "foo"),
    v("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    v("docker/migrator", HUB, "docker/migrator"),
    v("foo", HUB, "library/foo"),
    v("xn--n3h.com/foo", "xn--n3h.com", "foo"),
    v("docker.io/foo", HUB, "library/foo"),
    v("docker.io/library/foo", HUB, "library/foo"),
    v("docker.io/library/foo/bar", HUB, "library/foo/bar"),
    # --- TestSerialization / TestWithTag / TestWithDigest / TestParseNamed -------------------
    v("example.com:8000/named", "example.com:8000", "named"),
    v("example.com:8000/named:tagged", "example.com:8000", "named", "tagged"),
    v(f"other.com/named@{DIST_DIGEST}", "other.com", "named", None, DIST_DIGEST),
    v("test.com/foo:tag", "test.com", "foo", "tag"),
    v("foo:tag2", HUB, "library/foo", "tag2"),
    v("test.com:8000/foo:tag4", "test.com:8000", "foo", "tag4"),
    v("test.com:8000/foo:TAG5", "test.com:8000", "foo", "TAG5"),
    v("library/foo", HUB, "library/foo"),
    v("test.com", HUB, "library/test.com"),
    # --- normalize_test.go TestValidateReferenceName (valid ones) ----------------------------
    v("docker/docker", HUB, "docker/docker"),
    v("library/debian", HUB, "library/debian"),
    v("debian", HUB, "library/debian"),
    v("localhost/library/debian", "localhost", "library/debian"),
    v("localhost/debian", "localhost", "debian"),
    v("docker.io/docker/docker", HUB, "docker/docker"),
    v("docker.io/library/debian", HUB, "library/debian"),
    v("docker.io/debian", HUB, "library/debian"),
    v("index.docker.io/docker/docker", HUB, "docker/docker"),
    v("index.docker.io/library/debian", HUB, "library/debian"),
    v("index.docker.io/debian", HUB, "library/debian"),
    v("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker"),
    v("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian"),
    v("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian"),
    v("192.168.0.1", HUB, "library/192.168.0.1"),
    v("192.168.0.1:80", HUB, "library/192.168.0.1", "80"),
    v("192.168.0.1:8/debian", "192.168.0.1:8", "debian"),
    v("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian"),
    v(SONG, HUB, f"library/{SONG}"),
    v("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker"),
    v("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker"),
    v("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian"),
    v(f"docker.io/{HEX64}", HUB, f"library/{HEX64}"),
    # ggcr≠distribution: distribution refuses a bare 64-hex name (image-ID ambiguity).
    v(HEX64, HUB, f"library/{HEX64}", id="bare-64-hex-name"),
    # --- TestValidateRemoteName (valid ones): separators ------------------------------------
    v("docker-rules/docker", HUB, "docker-rules/docker"),
    v("docker---rules/docker", HUB, "docker---rules/docker"),
    v("doc/docker", HUB, "doc/docker"),
    v("d/docker", HUB, "d/docker"),
    v("jess/t", HUB, "jess/t"),
    v("dock__er/docker", HUB, "dock__er/docker"),
    v("x/a.b_c__d-e---f", HUB, "x/a.b_c__d-e---f", id="every-separator"),
    # --- TestParseRepositoryInfo: familiar / full / ambiguous names --------------------------
    v("localhost/fooo", "localhost", "fooo"),
    v("localhost/fooo/bar", "localhost", "fooo/bar"),
    v("fooo/bar", HUB, "fooo/bar"),
    v("docker.io/fooo/bar", HUB, "fooo/bar"),
    v("index.docker.io/fooo/bar", HUB, "fooo/bar"),
    v("ubuntu", HUB, "library/ubuntu"),
    v("docker.io/library/ubuntu", HUB, "library/ubuntu"),
    v("library/ubuntu", HUB, "library/ubuntu"),
    v("nonlibrary/ubuntu", HUB, "nonlibrary/ubuntu"),
    v("docker.io/nonlibrary/ubuntu", HUB, "nonlibrary/ubuntu"),
    v("other/library", HUB, "other/library"),
    v("docker.io/other/library", HUB, "other/library"),
    v("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"),
    v("127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase"),
    v("example.com/private/moonbase", "example.com", "private/moonbase"),
    v("example.com/privatebase", "example.com", "privatebase"),
    v("example.com:8000/private/moonbase", "example.com:8000", "private/moonbase"),
    v("example.com:8000/privatebasee", "example.com:8000", "privatebasee"),
    v("ubuntu-12.04-base", HUB, "library/ubuntu-12.04-base"),
    v("docker.io/library/ubuntu-12.04-base", HUB, "library/ubuntu-12.04-base"),
    v("index.docker.io/library/ubuntu-12.04-base", HUB, "library/ubuntu-12.04-base"),
    v("library/foo/bar", HUB, "library/foo/bar"),
    v("store/foo/bar", HUB, "store/foo/bar"),
    v("docker.io/store/foo/bar", HUB, "store/foo/bar"),
    # --- TestParseAnyReference / TestParseDockerRef ------------------------------------------
    v("redis", HUB, "library/redis"),
    v("redis:latest", HUB, "library/redis", "latest"),
    v("docker.io/library/redis:latest", HUB, "library/redis", "latest"),
    v(f"redis@{REDIS}", HUB, "library/redis", None, REDIS),
    v(f"docker.io/library/redis@{REDIS}", HUB, "library/redis", None, REDIS),
    v("dmcgowan/myapp", HUB, "dmcgowan/myapp"),
    v("dmcgowan/myapp:latest", HUB, "dmcgowan/myapp", "latest"),
    v("docker.io/mcgowan/myapp:latest", HUB, "mcgowan/myapp", "latest"),
    v(f"dmcgowan/myapp@{REDIS}", HUB, "dmcgowan/myapp", None, REDIS),
    v(f"docker.io/dmcgowan/myapp@{REDIS}", HUB, "dmcgowan/myapp", None, REDIS),
    # distribution's ParseAnyReference reads a bare 64-hex string as a digest; as an image
    # reference (pack, ggcr) it is a Docker Hub repository name.
    v(
        REDIS.removeprefix("sha256:"),
        HUB,
        "library/" + REDIS.removeprefix("sha256:"),
        id="bare-64-hex-redis-digest-as-name",
    ),
    v(
        REDIS.removeprefix("sha256:")[:-1],
        HUB,
        "library/" + REDIS.removeprefix("sha256:")[:-1],
        id="63-hex-name",
    ),
    v("dbcc1", HUB, "library/dbcc1"),
    v("busybox", HUB, "library/busybox"),
    v("busybox:latest", HUB, "library/busybox", "latest"),
    v(f"busybox@{BUSYBOX}", HUB, "library/busybox", None, BUSYBOX),
    v("library/busybox", HUB, "library/busybox"),
    v("docker.io/busybox", HUB, "library/busybox"),
    v("docker.io/library/busybox", HUB, "library/busybox"),
    v("docker.io/busybox:latest", HUB, "library/busybox", "latest"),
    v("library/busybox:latest", HUB, "library/busybox", "latest"),
    v("gcr.io/library/busybox", "gcr.io", "library/busybox"),
    # ggcr≠distribution: ParseDockerRef/ggcr Name() drop the tag of tag+digest; inspector
    # keeps it as a field (and pulls by digest, see test_tag_and_digest_pull_by_digest).
    v(f"gcr.io/library/busybox:latest@{BUSYBOX}", "gcr.io", "library/busybox", "latest", BUSYBOX),
    v(f"busybox:latest@{REDIS}", HUB, "library/busybox", "latest", REDIS),
    # --- go-containerregistry registry_test.go (as the registry of a repository) ------------
    v("gcr.io/x", "gcr.io", "x"),
    v("gcr.io:9001/x", "gcr.io:9001", "x"),
    v("index.docker.io/x", HUB, "library/x"),
    v("us.gcr.io/x", "us.gcr.io", "x"),
    v("example.text/x", "example.text", "x"),
    v("localhost/x", "localhost", "x"),
    v("localhost:9090/x", "localhost:9090", "x"),
    v("foo.svc.localhost:1234/x", "foo.svc.localhost:1234", "x"),
    v("foo.svc.local:1234/x", "foo.svc.local:1234", "x"),
    v("registry.local/x", "registry.local", "x"),
    v("127.0.0.1:1234/x", "127.0.0.1:1234", "x"),
    v("127.0.0.1/x", "127.0.0.1", "x"),
    v("127.0.0.1.evil.com/x", "127.0.0.1.evil.com", "x"),
    v("my127.0.0.1registry.io/x", "my127.0.0.1registry.io", "x"),
    v("localhost:8080/x", "localhost:8080", "x"),
    v("[::1]/x", "[::1]", "x"),
    v("[::1]:5000/x", "[::1]:5000", "x"),
    v("[2001:db8::1]:5000/x", "[2001:db8::1]:5000", "x"),
    v("10.2.3.4:5000/x", "10.2.3.4:5000", "x"),
    v("8.8.8.8/x", "8.8.8.8", "x"),
    v("172.16.3.4:3000/x", "172.16.3.4:3000", "x"),
    # --- repository_test.go ------------------------------------------------------------------
    v("gcr.io/g-convoy/hello-world", "gcr.io", "g-convoy/hello-world"),
    v("gcr.io/google.com/project-id/hello-world", "gcr.io", "google.com/project-id/hello-world"),
    v("us.gcr.io/project-id/sub-repo", "us.gcr.io", "project-id/sub-repo"),
    v("example.text/foo/bar", "example.text", "foo/bar"),
    v("mirror.gcr.io/ubuntu", "mirror.gcr.io", "ubuntu"),
    v("index.docker.io/library/ubuntu", HUB, "library/ubuntu"),
    v("example.com/a", "example.com", "a"),
    v("example.com/a/b", "example.com", "a/b"),
    v("namespace/pathcomponent/image", HUB, "namespace/pathcomponent/image"),
    v("a", HUB, "library/a"),
    v("0", HUB, "library/0"),
    v("gcr.io/project-id/image", "gcr.io", "project-id/image"),
    # --- tag_test.go ---------------------------------------------------------------------------
    v("gcr.io/g-convoy/hello-world:latest", "gcr.io", "g-convoy/hello-world", "latest"),
    v(
        "gcr.io/google.com/g-convoy/hello-world:latest",
        "gcr.io",
        "google.com/g-convoy/hello-world",
        "latest",
    ),
    v("gcr.io/project-id/with-nums:v2", "gcr.io", "project-id/with-nums", "v2"),
    v(
        "us.gcr.io/project-id/image:with.period.in.tag",
        "us.gcr.io",
        "project-id/image",
        "with.period.in.tag",
    ),
    v(
        "gcr.io/project-id/image:w1th-alpha_num3ric.PLUScaps",
        "gcr.io",
        "project-id/image",
        "w1th-alpha_num3ric.PLUScaps",
    ),
    v("domain.with.port:9001/image:latest", "domain.with.port:9001", "image", "latest"),
    v("gcr.io/project-id/implicit-latest", "gcr.io", "project-id/implicit-latest"),
    v("www.example.test:12345/repo/path", "www.example.test:12345", "repo/path"),
    # --- digest_test.go ------------------------------------------------------------------------
    v(
        f"gcr.io/g-convoy/hello-world@{GGCR_DIGEST}",
        "gcr.io",
        "g-convoy/hello-world",
        None,
        GGCR_DIGEST,
    ),
    v(
        f"gcr.io/google.com/project-id/hello-world@{GGCR_DIGEST}",
        "gcr.io",
        "google.com/project-id/hello-world",
        None,
        GGCR_DIGEST,
    ),
    v(
        f"us.gcr.io/project-id/sub-repo@{GGCR_DIGEST}",
        "us.gcr.io",
        "project-id/sub-repo",
        None,
        GGCR_DIGEST,
    ),
    v(f"example.text/foo/bar@{GGCR_DIGEST}", "example.text", "foo/bar", None, GGCR_DIGEST),
    v(
        f"example.text/foo/bar:latest@{GGCR_DIGEST}",
        "example.text",
        "foo/bar",
        "latest",
        GGCR_DIGEST,
    ),
    v(
        f"example.text:8443/foo/bar:latest@{GGCR_DIGEST}",
        "example.text:8443",
        "foo/bar",
        "latest",
        GGCR_DIGEST,
    ),
    v(
        f"example.text/foo/bar:v1.0.0-alpine@{GGCR_DIGEST}",
        "example.text",
        "foo/bar",
        "v1.0.0-alpine",
        GGCR_DIGEST,
    ),
    v(
        f"namespace/pathcomponent/image@{GGCR_DIGEST}",
        HUB,
        "namespace/pathcomponent/image",
        None,
        GGCR_DIGEST,
    ),
    v(f"library/ubuntu@{GGCR_DIGEST}", HUB, "library/ubuntu", None, GGCR_DIGEST),
    v(f"nginx:latest@{GGCR_DIGEST}", HUB, "library/nginx", "latest", GGCR_DIGEST),
    v(f"library/nginx:latest@{GGCR_DIGEST}", HUB, "library/nginx", "latest", GGCR_DIGEST),
    v(
        f"example.text/foo/bar:v1.0.0@{GGCR_DIGEST}",
        "example.text",
        "foo/bar",
        "v1.0.0",
        GGCR_DIGEST,
    ),
    # --- ref_test.go (default registry/tag) ----------------------------------------------------
    v("crossplane/provider-gcp", HUB, "crossplane/provider-gcp"),
    v("crossplane/provider-gcp:v0.14.0", HUB, "crossplane/provider-gcp", "v0.14.0"),
    v("gcr.io/crossplane/provider-gcp:latest", "gcr.io", "crossplane/provider-gcp", "latest"),
    v("localhost/testimage:mytag", "localhost", "testimage", "mytag"),
    v("valid/string", HUB, "valid/string"),
    v("valid/prefix/valid/string", HUB, "valid/prefix/valid/string"),
    # --- the contract's rules, one at a time ----------------------------------------------------
    # Docker Hub: only "docker.io" is rewritten; every other Hub alias is kept as written.
    v("registry-1.docker.io/example/run", "registry-1.docker.io", "example/run"),
    v("registry-1.docker.io/run", "registry-1.docker.io", "run", id="hub-alias-gets-no-library"),
    v("registry.hub.docker.com/example/run", "registry.hub.docker.com", "example/run"),
    v("registry.hub.docker.com/run", "registry.hub.docker.com", "run"),
    v("docker.io/example/run", HUB, "example/run"),
    v("example/run", HUB, "example/run"),
    # Ports are part of the registry; registry case is kept (pack compares exactly).
    v("localhost:5000/example/run", "localhost:5000", "example/run"),
    v("registry.example.com:443/example/run", "registry.example.com:443", "example/run"),
    v("Registry.Example.com/example/run", "Registry.Example.com", "example/run"),
    v("docker.io:443/x", "docker.io:443", "x", id="docker.io-with-port-not-rewritten"),
    # A first component without "." or ":" that is not "localhost" is a Hub namespace.
    v("registry/example/run", HUB, "registry/example/run"),
    v("localhost", HUB, "library/localhost", id="bare-localhost-is-a-name"),
    v("localhost:5000", HUB, "library/localhost", "5000", id="localhost:5000-is-name:tag"),
    v("localhostx/run", HUB, "localhostx/run"),
    # Tags: 128 characters at most; word characters first, then word, "." and "-".
    v("example/run:" + "t" * 128, HUB, "example/run", "t" * 128, id="tag-128"),
    v("example/run:_x", HUB, "example/run", "_x"),
    v("example/run:x.-_", HUB, "example/run", "x.-_"),
    v("example/run:0", HUB, "example/run", "0"),
    # Path length: 255 characters at most, counted without the registry.
    v("a/" * 127 + "a", HUB, "a/" * 127 + "a", id="path-255"),
    v(
        "registry.example.com/" + "r" * 255,
        "registry.example.com",
        "r" * 255,
        id="registry-plus-255-char-path",
    ),
    v("r" * 247, HUB, "library/" + "r" * 247, id="hub-name-247-plus-library-is-255"),
    # Digests: sha256 (64 hex) and sha512 (128 hex), lowercase.
    v(f"example/run@{SHA512}", HUB, "example/run", None, SHA512),
    v(f"registry.example.com/run:1.0@{SHA512}", "registry.example.com", "run", "1.0", SHA512),
]


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), VALID)
def test_valid(text, registry, repository, tag, digest):
    ref = parse(text)
    assert isinstance(ref, Reference)
    assert ref.original == text
    assert ref.registry == registry
    assert ref.repository == repository
    assert ref.tag == tag
    assert ref.digest == digest
    expected = f"{registry}/{repository}"
    if tag is not None:
        expected += f":{tag}"
    if digest is not None:
        expected += f"@{digest}"
    assert ref.normalized == expected
    assert str(ref) == expected
    assert ref.name == f"{registry}/{repository}"
    assert ref.identifier == (digest if digest is not None else tag)
    assert registry_of(text) == registry


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        # The contract's own examples.
        ("x", "index.docker.io/library/x:latest"),
        ("registry.example.com/example/run", "registry.example.com/example/run:latest"),
        ("example/run", "index.docker.io/example/run:latest"),
        ("docker.io/example/run", "index.docker.io/example/run:latest"),
        ("registry-1.docker.io/example/run", "registry-1.docker.io/example/run:latest"),
        ("ubuntu", "index.docker.io/library/ubuntu:latest"),  # ggcr TestAllDefaults
        ("localhost:5000/example/run:1.0", "localhost:5000/example/run:1.0"),
        (f"example/run@{F64}", f"index.docker.io/example/run@{F64}"),
        ("[::1]:5000/x", "[::1]:5000/x:latest"),
    ],
)
def test_normalized_examples(text, normalized):
    assert parse(text).normalized == normalized


def test_tag_and_digest_pull_by_digest():
    # ggcr TestParseReferenceWithTagAndDigest: the identifier is the digest.
    ref = parse(f"example.text/foo/bar:v1.0.0@{GGCR_DIGEST}")
    assert ref.identifier == GGCR_DIGEST
    assert ref.tag == "v1.0.0"


def test_docker_hub_aliases_are_docker_hub_for_transport_only():
    assert parse("docker.io/x/y").is_docker_hub
    assert parse("index.docker.io/x/y").is_docker_hub
    assert parse("registry-1.docker.io/x/y").is_docker_hub
    assert parse("x/y").is_docker_hub
    assert not parse("registry.example.com/x/y").is_docker_hub
    # ... but compared as written: these are three different registries for pack.
    assert len({registry_of(r) for r in ["docker.io/x", "registry-1.docker.io/x", "x"]}) == 2


def bad(text, id=None):
    return pytest.param(text, id=id or repr(text)[:80])


INVALID = [
    # --- distribution TestReferenceParse ------------------------------------------------------
    bad(""),
    bad(":justtag"),
    bad(f"@{F64}"),
    bad("repo@sha256:" + "f" * 34),
    bad(f"validname@invaliddigest:{'f' * 64}"),
    bad("Uppercase:tag"),
    # ggcr≠distribution: distribution takes "Uppercase" as a domain (its FIXME); ggcr refuses.
    bad("Uppercase/lowercase:tag"),
    bad("test:5000/Uppercase/lowercase:tag"),
    bad("domain/" + "a" * 256 + ":tag", id="domain/256-char-path"),
    bad("aa/asdf$$^/aa"),
    bad("[2001:db8::1]"),
    bad("[2001:db8::1]:5000"),
    bad("[2001:db8::1]:tag"),
    bad("[fe80::1%eth0]:5000/repo"),
    bad("[fe80::1%@invalidzone]:5000/repo"),
    # --- TestWithNameFailure -------------------------------------------------------------------
    bad("example.com/" + "a" * 256, id="example.com/256-char-path"),
    # --- normalize_test.go TestValidateReferenceName (invalid) --------------------------------
    bad("https://github.com/docker/docker"),
    bad("docker/Docker"),
    bad("-docker"),
    bad("-docker/docker"),
    bad("-docker.io/docker/docker"),
    bad("docker///docker"),
    bad("docker.io/docker/Docker"),
    bad("docker.io/docker///docker"),
    bad("[fc00::1]"),
    bad("[fc00::1]:5000"),
    bad("fc00::1:5000/debian"),
    bad("[fe80::1%eth0]:5000/debian"),
    bad("[2001:db8:3:4::192.0.2.33]:5000/debian"),
    # ggcr≠distribution: distribution takes these first components as domains; ggcr reads
    # them as (uppercase, so invalid) Docker Hub repositories.
    bad("Docker/docker"),
    bad("DOCKER/docker"),
    bad("LOCALDOMAIN/library/debian"),
    bad("LOCALDOMAIN/debian"),
    bad("LOCALDOMAIN/fooo"),
    bad("Foo/bar"),
    bad("FOO/bar"),
    # --- TestValidateRemoteName (invalid) -----------------------------------------------------
    bad("-docker-/docker"),
    bad("docker-/docker"),
    bad("____/____"),
    bad("_docker/_docker"),
    bad("dock..er/docker"),
    bad("dock_.er/docker"),
    bad("dock-.er/docker"),
    bad("docker/"),
    bad(LONG_NAMESPACE, id="namespace-longer-than-255"),
    # --- ggcr registry/repository/tag/digest tests ---------------------------------------------
    bad("white space"),
    bad("white space/x"),
    bad("gcr?com/x"),
    bad("b@char/image"),
    bad("gcr.io/project-id/bad_chars:c@n'tuse"),
    bad("gcr.io/project-id/wrong-length:white space"),
    bad(
        "gcr.io/project-id/too-many-chars:thisisthetagthatneverendsitgoesonandonmyfriendsome"
        "peoplestartedtaggingitnotknowingwhatitwasandtheyllcontinuetaggingitforeverjustbecause"
        "thisisthetagthatneverends"
    ),
    bad("library/ubuntu:"),
    bad("gcr.io/project-id/unknown-alg@unknown:abc123"),
    bad("gcr.io/project-id/wrong-length@sha256:d34db33fd34db33f"),
    bad("gcr.io/project-id/missing-digest@"),
    bad("repo@sha256:" + ":" * 64),
    bad("repo@sha256:" + "sh" * 32),
    bad(f"repo@{GGCR_DIGEST}@{GGCR_DIGEST}"),
    bad(f"library/nginx:@{GGCR_DIGEST}"),
    # --- the contract's rules ------------------------------------------------------------------
    # Whitespace anywhere.
    bad(" "),
    bad("\t"),
    bad(" example/run"),
    bad("example/run "),
    bad("example/run\n"),
    bad("example /run"),
    bad("example/run:1 .0"),
    bad("example/\u00a0run"),
    # Trailing separators and empty components.
    bad("example/run:"),
    bad("example/run@"),
    bad("example/run/"),
    bad("/example/run"),
    bad("example//run"),
    bad("registry.example.com//run"),
    bad("registry.example.com/"),
    bad("registry.example.com:5000/"),
    bad("registry.example.com:/run"),
    bad("localhost/"),
    bad(":"),
    bad("@"),
    bad("/"),
    bad("//"),
    # Separators inside a path component.
    bad("a___b"),
    bad("a..b"),
    bad("a._b"),
    bad("a-.b"),
    bad("a_-b"),
    bad(".a"),
    bad("a."),
    bad("_a"),
    bad("a_"),
    bad("-a"),
    bad("a-"),
    bad("example/run-"),
    bad("example/.run"),
    # Uppercase repository (the registry may be uppercase, the path never).
    bad("Example/run"),
    bad("example/Run"),
    bad("registry.example.com/Example/run"),
    bad("localhost:5000/RUN"),
    bad("Mirror.Example.org/Example/Run"),
    # Characters outside the grammar.
    bad("exämple/run"),
    bad("example/run:täg"),
    bad("example/r+n"),
    bad("example/run:tag!"),
    bad("exam_ple.com/run"),
    bad("-registry.com/run"),
    bad("registry-.com/run"),
    bad(".registry.com/run"),
    bad("registry.com./run"),
    bad("registry.example.com:port/run"),
    bad("registry.example.com:5000:6000/run"),
    bad("[]/run"),
    bad("[2001:db8::1/run"),
    bad("2001:db8::1/run"),
    bad("::1/run"),
    # Tags: 129 characters; starting with "." or "-"; more than one ":".
    bad("example/run:" + "t" * 129, id="tag-129"),
    bad("registry.example.com/run:" + "t" * 129, id="registry-tag-129"),
    bad("example/run:.tag"),
    bad("example/run:-tag"),
    bad("example/run:a:b"),
    # Path length: 256 characters.
    bad("a/" * 127 + "aa", id="path-256"),
    bad("registry.example.com/" + "r" * 256, id="registry-plus-256-char-path"),
    bad("r" * 248, id="hub-name-248-plus-library-is-256"),
    # Digests: wrong length, uppercase, unknown algorithm, missing parts.
    bad("example/run@sha256:" + "f" * 63),
    bad("example/run@sha256:" + "f" * 65),
    bad("example/run@sha256:" + "F" * 64),
    bad("example/run@sha256:" + "A" + "f" * 63),
    bad("example/run@sha256:" + "g" * 64),
    bad("example/run@sha512:" + "f" * 64),
    bad("example/run@sha512:" + "f" * 127),
    bad("example/run@sha512:" + "F" * 128),
    bad("example/run@sha384:" + "f" * 96),
    bad("example/run@md5:" + "f" * 32),
    bad("example/run@SHA256:" + "f" * 64),
    bad("example/run@sha256"),
    bad("example/run@sha256:"),
    bad("example/run@:" + "f" * 64),
    bad("example/run@" + "f" * 64),
    bad(f"example/run:@{F64}"),
    bad(f"example/run@{F64}:tag"),
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid(text):
    with pytest.raises(ReferenceError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    assert text in message or repr(text) in message


def test_reference_error_is_input_error():
    with pytest.raises(InputError):
        parse("Example/Run")
    with pytest.raises(ValueError):
        parse("")


@pytest.mark.parametrize("value", [None, 42, b"example/run", ["example/run"]])
def test_non_string_is_a_reference_error(value):
    with pytest.raises(ReferenceError):
        parse(value)


def test_tables_have_no_duplicates():
    valid = [p.values[0] for p in VALID]
    invalid = [p.values[0] for p in INVALID]
    assert len(valid) == len(set(valid))
    assert len(invalid) == len(set(invalid))
    assert not set(valid) & set(invalid)

"""Image-reference vectors: pack's parser, go-containerregistry v0.21.5 ``pkg/name``.

pack v0.40.x parses every run image with ``name.ParseReference(s, name.WeakValidation)``
from go-containerregistry (ggcr) **v0.21.5**, whose registry check is Go 1.25's
``net/url``. ``inspector.reference`` transcribes that; these tables are its vectors:

* ggcr ``pkg/name`` at v0.21.5: ``registry_test.go``, ``repository_test.go``,
  ``tag_test.go``, ``digest_test.go``, ``ref_test.go`` (the weak-validation cases);
* distribution/reference ``reference_test.go`` and ``normalize_test.go`` inputs, with the
  verdict and the registry *ggcr* gives (``# ggcr≠distribution:`` marks a disagreement);
* ``VALID_GGCR`` / ``INVALID_GGCR``: the cases from issue 13 where ggcr's verdict differs
  from a path grammar: ``localhost/x`` is a Docker Hub repository (``localhost`` is a
  registry only from ggcr v0.21.7), repositories are 2-255 characters counted as written,
  only ``sha256`` digests, characters rather than separators are checked, and hosts are
  whatever Go's ``url.Parse("//" + host).Host`` keeps unchanged (``my_registry:5000``,
  ``[::ffff:10.0.0.1]``, ``host:``).
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
    # --- repository_test.go ------------------------------------------------------------------
    v("gcr.io/g-convoy/hello-world", "gcr.io", "g-convoy/hello-world"),
    v("gcr.io/google.com/project-id/hello-world", "gcr.io", "google.com/project-id/hello-world"),
    v("us.gcr.io/project-id/sub-repo", "us.gcr.io", "project-id/sub-repo"),
    v("example.text/foo/bar", "example.text", "foo/bar"),
    v("mirror.gcr.io/ubuntu", "mirror.gcr.io", "ubuntu"),
    v("index.docker.io/library/ubuntu", HUB, "library/ubuntu"),
    v("example.com/a/b", "example.com", "a/b"),
    v("namespace/pathcomponent/image", HUB, "namespace/pathcomponent/image"),
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
]


# --- where go-containerregistry v0.21.5 (pack's parser) says "valid" and distribution, or an
# earlier inspector, said otherwise. Each is a case a user can meet in a builder.toml. --------
VALID_GGCR = [
    # localhost: a registry only from ggcr v0.21.7; for v0.21.5 a Docker Hub namespace.
    v("localhost/acme/run", HUB, "localhost/acme/run"),
    v("localhost/library/debian", HUB, "localhost/library/debian"),
    v("localhost/debian", HUB, "localhost/debian"),
    v("localhost/fooo/bar", HUB, "localhost/fooo/bar"),
    v("localhost/testimage:mytag", HUB, "localhost/testimage", "mytag"),  # ref_test.go
    v("localhost/x", HUB, "localhost/x", id="localhost/x-is-an-11-char-hub-repository"),
    v("localhost:9090/repo", "localhost:9090", "repo"),  # ":" makes it a registry
    v("localhost./repo", "localhost.", "repo"),
    # ggcr registry_test.go names as the registry of a repository.
    v("gcr.io/repo", "gcr.io", "repo"),
    v("gcr.io:9001/repo", "gcr.io:9001", "repo"),
    v("us.gcr.io/repo", "us.gcr.io", "repo"),
    v("example.text/repo", "example.text", "repo"),
    v("foo.svc.local:1234/repo", "foo.svc.local:1234", "repo"),
    v("127.0.0.1:1234/repo", "127.0.0.1:1234", "repo"),
    v("127.0.0.1.evil.com/repo", "127.0.0.1.evil.com", "repo"),
    v("[::1]/repo", "[::1]", "repo"),
    v("[::1]:5000/repo-1", "[::1]:5000", "repo-1"),
    v("10.256.0.0:5000/repo", "10.256.0.0:5000", "repo"),  # a name, not an IP: still valid
    v("::1/repo", "::1", "repo", id="unbracketed-ipv6-host"),  # registry_test.go scheme "::1"
    v("2001:db8::1/run", "2001:db8::1", "run"),
    v("fc00::1:5000/debian", "fc00::1:5000", "debian"),
    # Two characters is the shortest repository.
    v("ab", HUB, "library/ab"),
    v("example.com/ab", "example.com", "ab"),
    v("docker.io/ab", HUB, "library/ab"),
    # Go net/url hosts: "_" and other sub-delims, an empty port, IPv4-mapped IPv6.
    v("my_registry:5000/app", "my_registry:5000", "app"),
    v("exam_ple.com/run", "exam_ple.com", "run"),
    v("registry.example.com:/run", "registry.example.com:", "run"),
    v("host:/xy", "host:", "xy"),
    v("[::1]:/xy", "[::1]:", "xy"),
    v("[::ffff:192.168.0.1]:5000/app", "[::ffff:192.168.0.1]:5000", "app"),
    v("[::ffff:10.0.0.1]/app", "[::ffff:10.0.0.1]", "app"),
    v("[2001:db8:3:4::192.0.2.33]:5000/debian", "[2001:db8:3:4::192.0.2.33]:5000", "debian"),
    v("[FE80::1]:5000/app", "[FE80::1]:5000", "app"),
    v("[0000:0:0:0:0:0:0:1]/app", "[0000:0:0:0:0:0:0:1]", "app"),
    v("-registry.com/run", "-registry.com", "run"),
    v("registry-.com/run", "registry-.com", "run"),
    v(".registry.com/run", ".registry.com", "run"),
    v("registry.com./run", "registry.com.", "run"),
    v("registry.example.com:5000:6000/run", "registry.example.com:5000:6000", "run"),
    v("a:b:80/xy", "a:b:80", "xy"),
    v("a]b.com/xy", "a]b.com", "xy"),
    v("sub~delims!$&'()*+,;=<>.example/xy", "sub~delims!$&'()*+,;=<>.example", "xy"),
    v('ex"ample.com/xy', 'ex"ample.com', "xy"),
    v("r\u00fcckwärts.example/xy", "r\u00fcckwärts.example", "xy", id="non-ascii-host"),
    v("-docker.io/docker/docker", "-docker.io", "docker/docker"),
    # A scheme-looking first component holds ":", so it is a registry ("https:").
    v("https://github.com/docker/docker", "https:", "/github.com/docker/docker"),
    # ggcr checks characters, not distribution's separators: any mix of [a-z0-9_-./].
    v("foo/-bar", HUB, "foo/-bar"),
    v("a___b", HUB, "library/a___b"),
    v("a..b", HUB, "library/a..b"),
    v("a._b", HUB, "library/a._b"),
    v("a-.b", HUB, "library/a-.b"),
    v("a_-b", HUB, "library/a_-b"),
    v(".a", HUB, "library/.a"),
    v("a.", HUB, "library/a."),
    v("_a", HUB, "library/_a"),
    v("a_", HUB, "library/a_"),
    v("-a", HUB, "library/-a"),
    v("a-", HUB, "library/a-"),
    v("-docker", HUB, "library/-docker"),
    v("-docker/docker", HUB, "-docker/docker"),
    v("-docker-/docker", HUB, "-docker-/docker"),
    v("docker-/docker", HUB, "docker-/docker"),
    v("____/____", HUB, "____/____"),
    v("_docker/_docker", HUB, "_docker/_docker"),
    v("dock..er/docker", "dock..er", "docker"),  # "." makes it a registry
    v("dock_.er/docker", "dock_.er", "docker"),  # "." makes it a registry
    v("dock-.er/docker", "dock-.er", "docker"),  # "." makes it a registry
    v("example/run-", HUB, "example/run-"),
    v("example/.run", HUB, "example/.run"),
    # "/" is a repository character too: empty components and a trailing "/" pass.
    v("docker/", HUB, "docker/"),
    v("example/run/", HUB, "example/run/"),
    v("/example/run", HUB, "/example/run"),
    v("example//run", HUB, "example//run"),
    v("docker///docker", HUB, "docker///docker"),
    v("docker.io/docker///docker", HUB, "docker///docker"),
    v("registry.example.com//run", "registry.example.com", "/run"),
    v("localhost/", HUB, "localhost/"),
    v("//", HUB, "//"),
    # Tags: the character set only, so "." or "-" may come first.
    v("example/run:.tag", HUB, "example/run", ".tag"),
    v("example/run:-tag", HUB, "example/run", "-tag"),
    v("xy:...", HUB, "library/xy", "..."),
    # The 255 limit counts the repository as written, without the implicit "library/".
    v("r" * 248, HUB, "library/" + "r" * 248, id="hub-name-248-as-written"),
    v("r" * 255, HUB, "library/" + "r" * 255, id="hub-name-255-as-written"),
    v("docker.io:443/xy", "docker.io:443", "xy", id="docker.io-with-port-not-rewritten"),
]

VALID += VALID_GGCR


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
        ("xy", "index.docker.io/library/xy:latest"),
        ("registry.example.com/example/run", "registry.example.com/example/run:latest"),
        ("example/run", "index.docker.io/example/run:latest"),
        ("docker.io/example/run", "index.docker.io/example/run:latest"),
        ("registry-1.docker.io/example/run", "registry-1.docker.io/example/run:latest"),
        ("ubuntu", "index.docker.io/library/ubuntu:latest"),  # ggcr TestAllDefaults
        ("localhost:5000/example/run:1.0", "localhost:5000/example/run:1.0"),
        (f"example/run@{F64}", f"index.docker.io/example/run@{F64}"),
        ("[::1]:5000/xy", "[::1]:5000/xy:latest"),
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
    assert len({registry_of(r) for r in ["docker.io/xy", "registry-1.docker.io/xy", "xy"]}) == 2


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
    bad("docker/Docker"),
    bad("docker.io/docker/Docker"),
    bad("[fc00::1]"),
    bad("[fc00::1]:5000"),
    bad("[fe80::1%eth0]:5000/debian"),
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
    bad("registry.example.com/"),
    bad("registry.example.com:5000/"),
    bad(":"),
    bad("@"),
    bad("/"),
    # Separators inside a path component.
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
    bad("registry.example.com:port/run"),
    bad("[]/run"),
    bad("[2001:db8::1/run"),
    # Tags: 129 characters; starting with "." or "-"; more than one ":".
    bad("example/run:" + "t" * 129, id="tag-129"),
    bad("registry.example.com/run:" + "t" * 129, id="registry-tag-129"),
    bad("example/run:a:b"),
    # Path length: 256 characters.
    bad("a/" * 127 + "aa", id="path-256"),
    bad("registry.example.com/" + "r" * 256, id="registry-plus-256-char-path"),
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


INVALID_GGCR = [
    # Repositories of one character (check.go: 2..255).
    bad("x"),
    bad("a"),
    bad("0"),
    bad("r.example.com/x"),
    bad("gcr.io/x"),
    bad("docker.io/x"),
    bad("index.docker.io/x"),
    bad("127.0.0.1/x"),
    bad("[::1]/x"),
    bad("host:/x"),
    bad("localhost:5000/x"),
    bad("x:tag"),
    # Only sha256 digests (go-digest Canonical).
    bad(f"example/run@{SHA512}"),
    bad(f"registry.example.com/run:1.0@{SHA512}"),
    # Past 255 as written; a digest re-reads "library/" + name (digest.go:119-124).
    bad("r" * 256, id="hub-name-256-as-written"),
    bad("r" * 248 + f"@{F64}", id="hub-name-248-digest-reread-with-library"),
    bad(f"x:1@{F64}"),
    # Go net/url: brackets hold IPv6 only, at the start, with an optional numeric port.
    bad("[1.2.3.4]/xy"),
    bad("[1.2.3.4]:5000/xy"),
    bad("a[::1]/xy"),
    bad("[::1]x/xy"),
    bad("[::1/xy"),
    bad("[12345::1]/xy"),
    bad("[1:2:3:4:5:6:7:8:9]/xy"),
    bad("[1::2::3]/xy"),
    bad("[::ffff:01.2.3.4]/xy"),
    bad("[::ffff:1.2.3]/xy"),
    bad("[1:2:3:4:5:6:7:8::]/xy"),
    bad("[fe80::1%25en0]:5000/xy"),
    bad("[abc]/xy"),
    # Go net/url: characters a host may not hold, userinfo, %-escapes, bad ports.
    bad("my registry.com/xy"),
    bad("reg{}.com/xy"),
    bad("a|b.com/xy"),
    bad("a\\b.com/xy"),
    bad("a^b.com/xy"),
    bad("a`b.com/xy"),
    bad("r%41.com/xy"),
    bad("user@reg.com/xy"),
    bad("reg.com:abc/xy"),
    bad("reg.com:80a/xy"),
    bad("reg\x7f.com/xy"),
    bad("reg\x01.com/xy"),
    bad("reg.com#frag/xy"),
]

INVALID += INVALID_GGCR


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


# --- ggcr registry_test.go names, straight through checkRegistry (Go net/url) --------------
@pytest.mark.parametrize(
    "host",
    [
        # goodStrictValidationRegistryNames + goodWeakValidationRegistryNames
        "gcr.io", "gcr.io:9001", "index.docker.io", "us.gcr.io", "example.text", "localhost",
        "localhost:9090", "",
        # TestRegistryScheme / TestIsRFC1918 domains
        "foo.svc.local:1234", "127.0.0.1:1234", "127.0.0.1", "::1", "10.2.3.4:5000",
        "10.256.0.0:5000", "172.16.3.4:3000", "192.168.3.4",
        # Go 1.25 url.Parse keeps these hosts as written
        "my_registry:5000", "host:", "[::1]:", "[::ffff:192.168.0.1]:5000", "a:b:80", "ü.example",
    ],
)  # fmt: skip
def test_ggcr_valid_registry_names(host):
    from inspector.reference import _new_registry

    expected = "index.docker.io" if host in ("", "docker.io") else host
    assert _new_registry(host) == expected


@pytest.mark.parametrize(
    "host",
    # badRegistryNames, then what Go's url.Parse changes or refuses
    ["white space", "gcr?com", "a#b", "u@h.com", "h.com/x", "[1.2.3.4]", "a[::1]", "[::1",
     "h:8x", "%41.com", "h\n.com", "h\x7f.com", "{h}.com"],
)  # fmt: skip
def test_ggcr_invalid_registry_names(host):
    from inspector.reference import _BadName, _new_registry

    with pytest.raises(_BadName):
        _new_registry(host)


def test_docker_io_is_the_only_rewrite():
    from inspector.reference import _new_registry

    assert _new_registry("docker.io") == "index.docker.io"
    assert _new_registry("registry-1.docker.io") == "registry-1.docker.io"
    assert _new_registry("docker.io:443") == "docker.io:443"


def test_localhost_rule_is_one_switch(monkeypatch):
    import inspector.reference as reference

    assert reference.parse("localhost/acme/run").registry == "index.docker.io"
    # What ggcr v0.21.7 does; flipping the one constant is all it takes to follow pack there.
    monkeypatch.setattr(reference, "LOCALHOST_IS_REGISTRY", True)
    ref = reference.parse("localhost/acme/run")
    assert (ref.registry, ref.repository) == ("localhost", "acme/run")

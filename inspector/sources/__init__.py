"""Where run images come from: a builder.toml, a builder image, pack's config."""

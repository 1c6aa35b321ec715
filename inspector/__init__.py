"""inspector: which run image will Cloud Native Buildpacks use, and is every mirror in sync?"""

__version__ = "0.1.0"

"""Maps the top-level folders server/ and swarm/ to the import packages swarm_lsp.server and
swarm_lsp.swarm (DESIGN.md §3): both names are too generic to install at the top level."""

from setuptools import find_packages, setup

FOLDERS = ("server", "swarm")

setup(
    packages=[f"swarm_lsp.{name}" for name in find_packages(include=[f"{f}*" for f in FOLDERS])],
    package_dir={f"swarm_lsp.{f}": f for f in FOLDERS},
    package_data={"swarm_lsp.swarm": ["py.typed"]},
)

"""The community asset bank: the local directory, FHIR, Open Referral UK, search, suggestions.

The knowledge bank of community assets (groups, services, places) that practitioners
sign-post people to, and the follow-up of those sign-posts:

- :mod:`~wb_fhir.assets.model`: the assets as frozen values; :mod:`~wb_fhir.assets.directory`:
  the local YAML/JSON directory (the embedded default).
"""

from wb_fhir.assets.directory import (
    assets_from_data,
    default_directory_path,
    dumps_directory,
    example_directory_path,
    is_asset_directory,
    load_assets,
    local_asset_names,
    parse_opening,
    save_assets,
    user_directory_path,
)
from wb_fhir.assets.model import Asset, AssetDirectory, Opening, Organisation, Place, Source

__all__ = [
    "Asset",
    "AssetDirectory",
    "Opening",
    "Organisation",
    "Place",
    "Source",
    "assets_from_data",
    "default_directory_path",
    "dumps_directory",
    "example_directory_path",
    "is_asset_directory",
    "load_assets",
    "local_asset_names",
    "parse_opening",
    "save_assets",
    "user_directory_path",
]

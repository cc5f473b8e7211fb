"""Imports every module under hwsim.components so each implementation registers its `type:` name
(self-registration, as in Ramulator 2: adding a component never edits a central list)."""
import importlib
import pkgutil

import hwsim.components as _package

for _module in pkgutil.walk_packages(_package.__path__, f"{_package.__name__}."):
    importlib.import_module(_module.name)

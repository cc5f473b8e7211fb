"""One module per target group; importing this package imports (and so registers) every check."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__, f"{__name__}."):
    importlib.import_module(_module.name)

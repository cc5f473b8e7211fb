"""One module per target group; importing this package registers every check."""
from hwsim.validate.checks import dram, roofline, systolic  # noqa: F401
from hwsim.validate.checks import cambricon  # noqa: F401

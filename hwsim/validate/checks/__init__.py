"""One module per target group; importing this package registers every check."""
from hwsim.validate.checks import cambricon, dram, pim, roofline, systolic, tellme  # noqa: F401

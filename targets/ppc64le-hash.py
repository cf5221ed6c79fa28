# ppc64le pseries with the hash MMU: the ppc64le-radix kernel, booted with
# radix disabled.
inherit = "ppc64le-radix"
cmdline = "disable_radix"
expect = [r"KT: mmu MMU\s*: Hash"]
# KUnit: the same cases as the target it inherits.
# A tree without them cannot build this target: it is skipped there.
requires = ["PPC_RADIX_MMU", "PPC_64S_HASH_MMU"]

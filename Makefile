# make          the main job: series applied to Debian's 6.12 tree, x86_64
#               built, booted in QEMU, vmalloc selftests run, verdict printed
# make check    every check: the harness's own tests, the targets, the gates
#               and the harness fixtures
# make selftest the harness's own tests (seconds; unpacks the base tree once)
# make tree     build/src/6.12 with the series applied as commits, to edit
# make export   series/6.12/ regenerated from the commits in build/src/6.12
# make bundle   build/bundle/TARGET/ (TARGETS, default x86_64): what a person
#               boots on a machine of their own, or a LAVA lab runs;
#               PROFILE=hw: built from the architecture's defconfig
# make bench    test_vmalloc's performance mode and a page-fault loop, base
#               against series (TARGETS, default x86_64), under -icount;
#               FIXTURE=tests/bench/slow-vmalloc.patch: must see a slowdown
# make check-hw the hw bundles (targets/hw/) built, booted in QEMU as their
#               README says, judged (slow: defconfig builds)
# make fresh    make and make check (TARGETS, default x86_64) in a clean
#               clone inside a minimal Debian 12 root: proves deps.sh
PY := python3
KT := $(PY) harness/kt.py
TARGETS ?=

all: deps
	$(KT) run $(or $(TARGETS),x86_64)

check: deps selftest
	$(KT) check $(TARGETS)

selftest: deps
	@$(KT) base
	$(PY) -m unittest discover -s harness -p 'test_*.py'

tree: deps
	$(KT) tree

export:
	$(KT) export

bundle: deps
	$(KT) bundle $(if $(PROFILE),--profile $(PROFILE)) $(or $(TARGETS),x86_64)

check-hw: deps
	$(KT) check-hw $(TARGETS)

bench: deps
	$(KT) bench $(if $(FIXTURE),--fixture $(FIXTURE)) $(or $(TARGETS),x86_64)

fresh:
	@sh harness/deps.sh debootstrap
	bash harness/fresh.sh $(or $(TARGETS),x86_64)

deps:
	@sh harness/deps.sh

clean:
	@bash harness/clean.sh

.PHONY: all check selftest tree export bundle check-hw bench fresh deps clean

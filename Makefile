# The harness's entry points; `make help` lists them.  Each installs what
# it needs from Debian first (harness/deps.sh).  Everything is
# `python3 harness/kt.py COMMAND`: `python3 harness/kt.py --help`.
PY := python3
# make check TREE=~/linux RANGE=v6.12..my-branch: a tree of your own
TREE ?=
RANGE ?=
# make check KVER=6.1: series/6.1/ on Debian's linux-source-6.1
KVER ?=
KT := $(PY) harness/kt.py $(if $(KVER),--kver $(KVER)) $(if $(TREE),--tree '$(TREE)') $(if $(RANGE),--range '$(RANGE)')
# (Debian's tarball of KVER, where no TREE replaces it)
SRCPKG := $(if $(and $(KVER),$(if $(TREE),,y)),linux-source-$(KVER))
TARGETS ?=
# make KUNIT=GLOB: one KUnit suite or case; make check GATE=name /
# FIXTURE=name: one gate or fixture (space-separated for several)
KUNIT ?=
GATE ?=
FIXTURE ?=

all: deps-run
	$(KT) run $(if $(KUNIT),--kunit '$(KUNIT)') $(or $(TARGETS),x86_64)

check: selftest
	$(KT) check $(strip $(foreach g,$(GATE),--gate $(g)) $(if $(filter none,$(FIXTURE)),--no-fixtures,$(foreach f,$(FIXTURE),--fixture $(f))) $(TARGETS))

# (the harness's own tests are the same whichever KVER or TREE the run is
# for: they read Debian's 6.12 tree, build/src/6.12)
selftest: deps-check
	@env -u KVER $(PY) harness/kt.py base
	env -u KVER $(PY) -m unittest discover -s harness -p 'test_*.py'

tree: deps-run
	$(KT) tree

export:
	$(KT) export

bundle: deps-run
	$(KT) bundle $(if $(PROFILE),--profile $(PROFILE)) $(or $(TARGETS),x86_64)

check-hw: deps-check
	$(KT) check-hw $(TARGETS)

bench: deps-bench
	$(KT) bench $(if $(FIXTURE),--fixture $(FIXTURE)) $(or $(TARGETS),x86_64)

fresh:
	@sh harness/deps.sh debootstrap
	bash harness/fresh.sh $(or $(TARGETS),x86_64)

deps-run:
	@sh harness/deps.sh run $(if $(filter-out x86_64,$(TARGETS)),targets) $(SRCPKG)

deps-check:
	@sh harness/deps.sh check $(SRCPKG)

deps-bench:
	@sh harness/deps.sh bench $(SRCPKG)

deps: deps-check

clean:
	@bash harness/clean.sh

help:
	@echo 'make                the main job: the series on x86_64, built, booted in'
	@echo '                    QEMU, KUnit and test_vmalloc judged, verdict printed'
	@echo 'make check          every check: harness self-tests, all targets (built,'
	@echo '                    booted), the patch gates, the known-bad fixtures'
	@echo 'make selftest       the harness self-tests only (seconds, once'
	@echo '                    build/src/6.12 is unpacked)'
	@echo 'make tree           build/src/6.12: base and series as git commits, to edit'
	@echo 'make export         series/6.12/ written again from build/src/6.12'
	@echo '                    (KVER=6.1: series/6.1/ and build/src/6.1)'
	@echo 'make bundle         build/bundle/TARGET/: what a board or a LAVA lab boots'
	@echo 'make check-hw       the hw bundles (targets/hw/) built and booted (slow)'
	@echo 'make bench          test_vmalloc performance, base against series (-icount)'
	@echo 'make fresh          make and make check in a new Debian 12 root (debootstrap)'
	@echo 'make clean          remove build/'
	@echo
	@echo 'Variables:'
	@echo '  TARGETS="x86_64 i386"   the targets (python3 harness/kt.py targets)'
	@echo '  KUNIT=pgalloc_track     make: one KUnit suite or SUITE.CASE glob only'
	@echo '  GATE=checkpatch         make check: one gate (or several, spaced)'
	@echo '  FIXTURE=wrong-level-bit make check: one fixture of tests/fixtures/'
	@echo '                          (FIXTURE=none: no fixture)'
	@echo '  PROFILE=hw              make bundle: from the defconfig'
	@echo '  KVER=6.1                series/6.1/ on Debian'"'"'s linux-source-6.1'
	@echo '  TREE=~/linux RANGE=v6.12..branch   a git tree of your own and the'
	@echo '                          commits to test, in place of Debian'"'"'s tarball'
	@echo
	@echo 'More: python3 harness/kt.py --help, and python3 harness/kt.py COMMAND --help'

.PHONY: all check selftest tree export bundle check-hw bench fresh deps \
	deps-run deps-check deps-bench clean help

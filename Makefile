# make          the main job: series applied to Debian's 6.12 tree, x86_64
#               built, booted in QEMU, vmalloc selftests run, verdict printed
# make check    every check: the targets, the gates and the harness fixtures
# make tree     build/src/6.12 with the series applied as commits, to edit
# make export   series/6.12/ regenerated from the commits in build/src/6.12
PY := python3
KT := $(PY) harness/kt.py
TARGETS ?=

all: deps
	$(KT) run $(or $(TARGETS),x86_64)

check: deps
	$(KT) check $(TARGETS)

tree: deps
	$(KT) tree

export:
	$(KT) export

deps:
	@sh harness/deps.sh

clean:
	rm -rf build

.PHONY: all check tree export deps clean

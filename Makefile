# kmap-local workbench.  The two commands a new user needs:
#   make run     build the patched i386 HIGHMEM kernel, boot it, show results
#   make check   the whole matrix, the series checks and the host tests
#
# Variables: TARBALL=path (use a local base tarball), MIRROR=uri (Debian
# archive to fetch from), BUILD_DIR, CACHE_DIR, JOBS, TREE=path (build a
# developer tree instead of patches/), ONLY=host,series,matrix (part of
# check), BISECT=auto|full|objects, FORCE=1 (make tree over unexported work).

PY := python3 harness/kmap.py
T ?= i386-highmem

export TARBALL MIRROR BUILD_DIR CACHE_DIR JOBS TREE ONLY BISECT FORCE

.PHONY: run check deps base tree export build boot host-test bisect-full cross judge
run:
	@$(PY) run
check:
	@$(PY) check
deps:
	@$(PY) deps
base: deps
	@$(PY) base
tree: deps
	@$(PY) tree
export:
	@$(PY) export
build: deps
	@$(PY) build $(T)
boot: deps
	@$(PY) boot $(T)
host-test:
	@$(PY) host-test
bisect-full: deps
	@$(PY) bisect-full
cross: deps
	@$(PY) cross
judge:
	@$(PY) judge $(LOG) $(T)

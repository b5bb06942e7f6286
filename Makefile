# lb4 - Layer-4 TCP load balancer.  See README.md.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= /etc
LIBDIR_LB4	?= $(PREFIX)/lib/lb4
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/lb4
UNITDIR		?= /lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
DESTDIR		?=

B		:= build
PKGS		:= libconfig libsystemd
# The one version source: the binary (build/gen/version.h), the man pages'
# .TH lines and both packages (make deb, make rpm) take it from VERSION.
VERSION		:= $(shell cat VERSION)

# Packagers pass their own CFLAGS/LDFLAGS (hardening); ours are appended.
# Warnings are errors for developers and CI; packagers build with WERROR=
# (debian/rules, the rpm spec) so that a newer compiler's new warning does
# not fail a distribution build.
WERROR		?= -Werror
CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra $(WERROR) -pthread -D_GNU_SOURCE \
		   -I$(B)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Each object lists the headers it includes in a .d file beside it (the
# compiler writes them: -MMD), so touching a header rebuilds only what
# includes it; -MP keeps a deleted header from breaking the build.
DEPFLAGS	:= -MMD -MP
LDFLAGS		?=
LDLIBS		+= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
# SANITIZE=1: ASan + UBSan; SANITIZE=thread: TSan (test/tsan.sh).  Give
# each its own B=build-... so that objects never mix.
ifeq ($(SANITIZE),1)
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
LDFLAGS		+= -fsanitize=address,undefined
endif
ifeq ($(SANITIZE),thread)
CFLAGS		+= -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS		+= -fsanitize=thread
endif
ifeq ($(FORCE_COPY),1)
CFLAGS		+= -DLB4_FORCE_COPY
endif

LIB_SRCS	:= $(filter-out lb4/main.c lb4/lb4ctl.c,$(wildcard lb4/*.c))
LIB_OBJS	:= $(LIB_SRCS:lb4/%.c=$(B)/obj/%.o)
UNIT_SRCS	:= $(wildcard test/unit/check_*.c)
UNIT_BINS	:= $(UNIT_SRCS:test/unit/%.c=$(B)/test/%)
TOOL_SRCS	:= $(wildcard test/tools/*.c)
TOOL_BINS	:= $(TOOL_SRCS:test/tools/%.c=$(B)/tools/%)
MAN_SRCS	:= $(wildcard docs/*.5 docs/*.8)
MAN_PAGES	:= $(MAN_SRCS:docs/%=$(B)/man/%)
GEN_HDRS	:= $(B)/gen/version.h $(B)/gen/status_html.h

.PHONY: all clean install check check-unit check-integration check-pair \
	check-integration-full \
	check-packages check-db check-ecmp check-ecmp-long check-fuzz \
	check-monitoring check-tsan fuzz fuzz-build deps deps-build deps-deb \
	deps-rpm demo bench deb rpm tools lint lint-cppcheck lint-sh \
	lint-tidy-lb4ctl check-torture check-stress \
	stress-torture torture-asan check-unit-user

all: $(B)/lb4 $(B)/lb4ctl $(MAN_PAGES)

# The generated headers exist before any object is compiled (order-only:
# after the first build each .d file says which object needs which).
$(B)/obj/%.o: lb4/%.c | $(B)/obj $(GEN_HDRS)
	$(CC) $(DEPFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/obj $(B)/test $(B)/tools $(B)/gen $(B)/man:
	mkdir -p $@

# The status page (GET / of the metrics address) is lb4/status.html, built
# in as a C string.
$(B)/gen/status_html.h: lb4/status.html | $(B)/gen
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' \
	    $< > $@.tmp && mv $@.tmp $@

$(B)/gen/version.h: VERSION | $(B)/gen
	printf '/* Generated from VERSION by the Makefile. */\n#define LB4_VERSION\t"%s"\n' \
	    '$(VERSION)' > $@.tmp && mv $@.tmp $@

# The man pages say "lb4 @VERSION@" on their .TH line; make fills it in.
$(B)/man/%: docs/% VERSION | $(B)/man
	sed -e '/^\.TH /s/@VERSION@/$(VERSION)/' $< > $@.tmp && mv $@.tmp $@

$(B)/lb4.a: $(LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/lb4: $(B)/obj/main.o $(B)/lb4.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/lb4ctl: $(B)/obj/lb4ctl.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/test/%: test/unit/%.c $(B)/lb4.a | $(B)/test
	$(CC) $(DEPFLAGS) $(CPPFLAGS) $(CFLAGS) -Ilb4 $(shell pkg-config --cflags check) \
	    -o $@ $< $(B)/lb4.a $(LDFLAGS) $(LDLIBS) \
	    $(shell pkg-config --libs check)

# Test peers: no libraries beyond libc (SHA-256 is in test/tools/tcommon.h).
$(B)/tools/%: test/tools/%.c | $(B)/tools
	$(CC) $(DEPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) -pthread

tools: $(TOOL_BINS)

# Missing Debian packages: installed when root, else the apt-get line.
deps-build:
	@test/deps.sh build
deps:
	@test/deps.sh build test
# make deb / make rpm: their build tools (and, for deb, the Build-Depends).
deps-deb:
	@test/deps.sh deb
deps-rpm:
	@test/deps.sh rpm

demo: deps-build all tools
	@test/demo.sh

# make check: lint first (cheap), then the suites.  check-pair, check-db,
# check-ecmp and check-packages need root (else they SKIP, loudly).
check: deps
	$(MAKE) lint
	$(MAKE) all tools $(UNIT_BINS)
	$(MAKE) check-unit
	$(MAKE) check-monitoring
	$(MAKE) check-integration
	$(MAKE) check-unit-user
	$(MAKE) check-torture
	$(MAKE) check-pair
	$(MAKE) check-db
	$(MAKE) check-ecmp
	$(MAKE) check-packages
	$(MAKE) check-fuzz

check-unit: all $(UNIT_BINS)
	@test/run-unit.sh $(UNIT_BINS)

# The integration suite once per splice mode, each mode with the other
# build: the plain lb4 with splice, the ASan+UBSan lb4 of build-asan/ on
# the copy path (where lb4's own buffers move the bytes).  Both builds run
# every test in the time of one plain matrix; check-integration-full (a
# part of check-stress) runs all four.  ASan's logs: build-asan/itest-logs.
check-integration: all tools torture-asan
	@rc=0; LB4_SPLICE_MODES=true test/integration/run.sh || rc=1; \
	    LB4_SPLICE_MODES=false LB4_TEST_LOGS=$(CURDIR)/$(ASAN_B)/itest-logs \
	    $(call ASAN_RUN,300) || rc=1; exit $$rc

check-integration-full: all tools torture-asan
	@rc=0; test/integration/run.sh || rc=1; \
	    LB4_TEST_LOGS=$(CURDIR)/$(ASAN_B)/itest-logs \
	    $(call ASAN_RUN,300) || rc=1; exit $$rc

# The tests that move bytes again, with lb4 run as the shipped unit runs
# it: an unprivileged user, only CAP_NET_BIND_SERVICE, LimitNOFILE (see
# LB4_AS_UNIT in test/integration/lib.sh).  t_pipebudget always runs so.
UNIT_USER_TESTS	?= t_integrity t_halfclose t_reset t_urgent t_idle t_proxy \
		   t_retry t_slowreader t_emfile
check-unit-user: all tools
	@LB4_AS_UNIT=1 test/integration/run.sh $(UNIT_USER_TESTS)

# The alert rules: promtool checks them and runs their unit tests (every
# rule firing and not firing); every query of the Grafana dashboard must
# parse.  test/integration/t_monitoring.sh checks that a real lb4 exports
# every series they query.
check-monitoring:
	promtool check rules etc/prometheus/lb4-alerts.yml
	cd etc/prometheus && promtool test rules lb4-alerts.test.yml
	python3 test/monitoring/queries.py check etc/grafana/lb4.json

# The reload lifetime under ASan/UBSan (issue 12): the lb4 of build-asan/
# with the plain test peers.  check-torture is the short form that make
# check runs (reload_torture.sh, 100 reloads, and the reload regression
# tests); stress-torture the long form (1000 reloads per splice mode).
# ASAN_RUN: the first report stops lb4 with status 66 (a leak at exit
# too), which fails the test, and so does any report in a log of the test
# (lib.sh's cleanup); LB4_SLOW=2 doubles the tests' time limits.
ASAN_B		:= build-asan
ASAN_OPTS	:= ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=66:detect_leaks=1 \
		   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=66
ASAN_RUN	= $(ASAN_OPTS) LB4_SLOW=$${LB4_SLOW:-2} \
		  LB4=$(CURDIR)/$(ASAN_B)/lb4 LB4CTL=$(CURDIR)/$(ASAN_B)/lb4ctl \
		  LB4_TEST_TIMEOUT=$(1) test/integration/run.sh
torture-asan:
	$(MAKE) B=$(ASAN_B) SANITIZE=1 all tools

# In splice mode only: check-integration already runs every test (the
# reload ones too) under ASan in copy mode; stress-torture runs both.
check-torture: torture-asan tools
	@LB4_SPLICE_MODES=true RACE_S=5 MAX=60 $(call ASAN_RUN,300) reload_torture \
	    t_reload_pool_drop t_reload_listener_race t_reload_partial \
	    t_reload_side_bind t_reload_during_stop t_reload_unused_pool \
	    t_reload_ctl_move fi_reload_oom

# The figures (seed, reloads, connections, bytes, sanitizer reports) are
# printed whether it passed or not.
stress-torture: torture-asan tools
	@TORTURE_RELOADS=$${TORTURE_RELOADS:-1000} \
	    TORTURE_S=$${TORTURE_S:-900} N=$${STORM_N:-500} \
	    $(call ASAN_RUN,1200) reload_torture storm_random; \
	    rc=$$?; grep -h '^torture:' build/itest-logs/reload_torture.*.log; \
	    exit $$rc

# The long forms, for release, not in check: a list of parts, each of
# which runs alone (make check-stress STRESS=churn-tuned).  churn-*: the
# churn test across the 60 s TIME_WAIT (t_churn.sh, CHURN=long), minutes
# each.  integration-full: both builds in both splice modes.  vipmove:
# test/pair/vipmove.sh, 3 runs of every scenario per keepalived profile.
STRESS		?= integration-full torture tsan churn-defaults churn-sources \
		   churn-tuned ecmp vipmove
check-stress: all tools
	@for s in $(STRESS); do \
	    case $$s in \
	    integration-full) $(MAKE) check-integration-full || exit 1 ;; \
	    torture) $(MAKE) stress-torture || exit 1 ;; \
	    tsan) $(MAKE) check-tsan || exit 1 ;; \
	    ecmp) $(MAKE) check-ecmp-long || exit 1 ;; \
	    vipmove) VIPMOVE_RUNS=3 test/pair/vipmove.sh || exit 1 ;; \
	    churn-*) CHURN=long PART=$${s#churn-} LB4_SPLICE_MODES=true \
		LB4_TEST_TIMEOUT=600 test/integration/run.sh t_churn || exit 1 ;; \
	    *) echo "check-stress: unknown part $$s" >&2; exit 2 ;; \
	    esac; done

# Exit 77 is a loud SKIP (no root, no namespaces), counted as skipped.
# First the test of the VIP-move tests' flow tool (loopback, ~15 s).
check-pair: all
	@rc=0; test/pair/flowtool-selftest.sh || [ $$? -eq 77 ] || rc=1; \
	test/pair/run.sh || [ $$? -eq 77 ] || rc=1; \
	test/pair/vipmove.sh || [ $$? -eq 77 ] || rc=1; \
	exit $$rc

# Four lb4 nodes behind a BIRD router doing ECMP (README, "Beyond a
# pair"), in network namespaces: the short form, resilient groups only,
# about 3 minutes.
check-ecmp: all
	@ECMP_MODES=resilient test/ecmp/run.sh || [ $$? -eq 77 ]

# The package test, then README "Deploying a pair" run as written on two
# booted containers (test/packages/deploy.sh); both need root.
check-packages:
	@rc=0; test/packages/run.sh || [ $$? -eq 77 ] || rc=1; \
	LB4_DEPLOY_DEB_BUILT=1 test/packages/deploy.sh || [ $$? -eq 77 ] || rc=1; \
	exit $$rc

# lb4 in front of etcd + 3 Patroni nodes (issue 16); root, about 3 min.
check-db: all
	@test/db/t_patroni.sh || [ $$? -eq 77 ]

# Both router modes (plain multipath, resilient groups), 3 runs each.
check-ecmp-long: all
	@ECMP_RUNS=3 test/ecmp/run.sh || [ $$? -eq 77 ]

bench: all tools
	@test/bench/run.sh

# libFuzzer targets (test/fuzz/fuzz_*.c), built by clang with ASan and
# UBSan in their own directory: their objects carry coverage hooks and
# must never end up in $(B).  `make fuzz` runs each for FUZZ_SECONDS;
# `make check-fuzz` replays the committed corpus once (a regression test).
FUZZ_B		?= build-fuzz
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_CFLAGS	:= -O1 -g -std=gnu11 -Wall -Wextra $(WERROR) -pthread \
		   -D_GNU_SOURCE -I$(B)/gen \
		   $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
		   -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_SRCS	:= $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(FUZZ_SRCS:test/fuzz/%.c=$(FUZZ_B)/%)
FUZZ_OBJS	:= $(LIB_SRCS:lb4/%.c=$(FUZZ_B)/obj/%.o)

$(FUZZ_B)/obj:
	mkdir -p $@

# The generated headers are $(B)'s, as for $(B)/obj.
$(FUZZ_B)/obj/%.o: lb4/%.c | $(FUZZ_B)/obj $(GEN_HDRS)
	$(FUZZ_CC) $(DEPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_B)/lb4.a: $(FUZZ_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_B)/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_B)/lb4.a
	$(FUZZ_CC) $(DEPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilb4 -o $@ $< \
	    $(FUZZ_B)/lb4.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@test/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)

check-fuzz: fuzz-build
	@test/fuzz/run.sh check $(FUZZ_BINS)

# The reload and SWRR integration tests under ThreadSanitizer
# (build-tsan/); any race report fails them.  Long: not part of check.
check-tsan:
	@test/tsan.sh

# make lint: cppcheck, clang-tidy (its checks and why some are off are in
# .clang-tidy) and shellcheck on every shell script (test/shellcheck.sh,
# .shellcheckrc).  Any finding fails, after all are shown (-k).  lb4ctl is
# single-threaded: the thread-safety check (concurrency-mt-unsafe) does
# not apply to it.  One clang-tidy per file, LINT_JOBS at a time (all the
# CPUs): make check runs lint first and clang-tidy is most of its time.
LINT_JOBS	?= $(shell nproc 2>/dev/null || echo 1)
TIDY		= clang-tidy --quiet --warnings-as-errors='*'
TIDY_ARGS	= -- $(CFLAGS) -Ilb4 -I$(B)/gen
TIDY_SRCS	:= $(filter-out lb4/lb4ctl.c,$(wildcard lb4/*.c))
lint: $(GEN_HDRS)
	@$(MAKE) --no-print-directory -k -j$(LINT_JOBS) -Otarget lint-cppcheck \
	    lint-sh lint-tidy-lb4ctl $(TIDY_SRCS:lb4/%.c=lint-tidy-%)

lint-cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -D_GNU_SOURCE -I$(B)/gen lb4/
lint-sh:
	test/shellcheck.sh
lint-tidy-lb4ctl:
	$(TIDY) --checks=-concurrency-mt-unsafe lb4/lb4ctl.c $(TIDY_ARGS)
lint-tidy-%:
	$(TIDY) lb4/$*.c $(TIDY_ARGS)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/lb4 \
	    $(DESTDIR)$(LIBDIR_LB4)/vrrp-hooks $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(B)/lb4 $(B)/lb4ctl $(DESTDIR)$(SBINDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/lb4/lb4.conf || \
	    install -m 0644 etc/lb4.conf $(DESTDIR)$(SYSCONFDIR)/lb4/lb4.conf
	for f in vrrp-hooks/*; do [ -f "$$f" ] && \
	    install -m 0755 "$$f" $(DESTDIR)$(LIBDIR_LB4)/vrrp-hooks/; done; true
	# The pages of docs/ only: a page deleted there may linger in $(B)/man.
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	if [ -f etc/lb4.service ]; then install -d $(DESTDIR)$(UNITDIR) && \
	    install -m 0644 etc/lb4.service $(DESTDIR)$(UNITDIR)/; fi
	install -D -m 0644 etc/lb4.sysusers $(DESTDIR)$(SYSUSERSDIR)/lb4.conf
	install -D -m 0644 etc/lb4.tmpfiles $(DESTDIR)$(TMPFILESDIR)/lb4.conf
	# Site hooks for vrrp-hooks/notify (README, "Site hooks").
	install -d $(DESTDIR)$(SYSCONFDIR)/lb4/vrrp.d
	[ ! -f README.md ] || install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	# Examples: the keepalived configs and drop-in, the nftables ruleset,
	# lb4.conf for a pair node and for an ECMP node, the BIRD configs and
	# the ECMP files (nftables, sysctl, units, the router-side helper), the
	# sysctl settings for a node (an example, not active: README
	# "Connection churn" says why), the pair's forwarding (lb4-pair.nft,
	# 61-lb4-pair.conf, lb4-pair-forward.service: examples, never active
	# on a single node), the Prometheus alert rules (and their
	# tests) and the Grafana dashboard.
	for f in etc/keepalived etc/nftables* etc/*.nft etc/lb4-*.conf \
	    etc/lb4-pair-forward.service \
	    etc/sysctl.d etc/bird etc/ecmp etc/prometheus etc/grafana; do \
	    [ -e "$$f" ] && \
	    find "$$f" -type f; done | sort -u | while read -r f; do \
	    install -D -m 0644 "$$f" "$(DESTDIR)$(DOCDIR)/examples/$${f#etc/}" \
	    || exit 1; done

# Packages (what they install: lb4(8) FILES), built from a copy of the tree so
# that the source tree stays clean: git's files, tracked or not but not
# ignored, or, outside git, everything but build/.  Both leave their packages
# in build/.

define copy_tree
	rm -rf $(1) && mkdir -p $(1)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 -r sh -c 'for f; do [ ! -e "$$f" ] || \
	    printf "%s\0" "$$f"; done' sh | \
	    tar --null --no-recursion -T - -cf - | tar -C $(1) -xf -; \
	else \
	    tar --exclude=./$(B) --exclude=./.git -cf - . | tar -C $(1) -xf -; \
	fi
endef

# The .deb's version is VERSION's: when the last entry of debian/changelog
# names another version, the copy gets an entry for VERSION on top (a
# release should still write its own entry in packaging/debian/changelog).
deb: deps-deb
	$(call copy_tree,$(B)/deb-src)
	cp -R packaging/debian $(B)/deb-src/debian
	cd $(B)/deb-src && v=$$(dpkg-parsechangelog -S Version) && \
	if [ "$$v" != '$(VERSION)' ]; then \
	    { printf 'lb4 (%s) unstable; urgency=medium\n\n' '$(VERSION)'; \
	    printf '  * Version %s (the VERSION file).\n\n' '$(VERSION)'; \
	    printf ' -- %s  %s\n\n' "$$(dpkg-parsechangelog -S Maintainer)" \
	    "$$(date -R)"; cat debian/changelog; } > debian/changelog.new && \
	    mv debian/changelog.new debian/changelog; fi
	rm -f $(B)/lb4_*.deb $(B)/lb4-dbgsym_*.deb $(B)/lb4_*.changes \
	    $(B)/lb4_*.buildinfo
	cd $(B)/deb-src && dpkg-buildpackage -us -uc -b -jauto
	@for f in $(B)/lb4_*.deb; do echo "package: $(CURDIR)/$$f"; done
	@echo "install: apt-get install ./$$(ls $(B)/lb4_*.deb) keepalived nftables"

# On Debian (CI) there are no Fedora macros and no Fedora build
# dependencies: packaging/rpm/debian-shim.macros supplies the macros and
# --nodeps skips the BuildRequires.  Elsewhere the spec builds as it is.
RPM_TOP		= $(abspath $(B))/rpm
RPMBUILD_OPTS	?=
RPM_SHIM	= $(if $(wildcard /etc/debian_version),--nodeps \
		  --load $(abspath packaging/rpm/debian-shim.macros) \
		  --define '_lb4_shimdir $(abspath packaging/rpm)')

rpm: deps-rpm
	$(call copy_tree,$(RPM_TOP)/lb4-$(VERSION))
	mkdir -p $(RPM_TOP)/SOURCES
	tar -C $(RPM_TOP) -czf $(RPM_TOP)/SOURCES/lb4-$(VERSION).tar.gz \
	    lb4-$(VERSION)
	cp etc/lb4.sysusers $(RPM_TOP)/SOURCES/lb4.sysusers
	rm -rf $(RPM_TOP)/lb4-$(VERSION) $(B)/lb4-*.rpm
	mkdir -p $(RPM_TOP)/SPECS
	sed -e 's/@VERSION@/$(VERSION)/' packaging/rpm/lb4.spec \
	    > $(RPM_TOP)/SPECS/lb4.spec
	rpmbuild -bb $(RPM_SHIM) $(RPMBUILD_OPTS) --define '_topdir $(RPM_TOP)' \
	    $(RPM_TOP)/SPECS/lb4.spec
	cp $(RPM_TOP)/RPMS/*/lb4-$(VERSION)-*.rpm $(B)/
	@for f in $(B)/lb4-*.rpm; do echo "package: $(CURDIR)/$$f"; done
	@echo "install: dnf install ./$$(ls $(B)/lb4-*.rpm) keepalived nftables"

clean:
	rm -rf $(B) $(FUZZ_B)

-include $(wildcard $(B)/obj/*.d $(B)/test/*.d $(B)/tools/*.d \
    $(FUZZ_B)/obj/*.d $(FUZZ_B)/*.d)

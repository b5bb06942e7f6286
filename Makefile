# lb4 - Layer-4 TCP load balancer.  See README.md.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= /etc
LIBDIR_LB4	?= $(PREFIX)/lib/lb4
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/lb4
UNITDIR		?= /lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
DESTDIR		?=

B		:= build
PKGS		:= libconfig libsystemd

# Packagers pass their own CFLAGS/LDFLAGS (hardening); ours are appended.
CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -pthread -D_GNU_SOURCE \
		   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS		?=
LDLIBS		+= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
ifeq ($(SANITIZE),1)
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
LDFLAGS		+= -fsanitize=address,undefined
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

.PHONY: all clean install check check-unit check-integration check-pair \
	check-packages check-monitoring deps deps-build demo bench deb rpm \
	tools lint \
	check-torture check-stress stress-torture torture-asan

all: $(B)/lb4 $(B)/lb4ctl

$(B)/obj/%.o: lb4/%.c $(wildcard lb4/*.h) | $(B)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/obj $(B)/test $(B)/tools $(B)/gen:
	mkdir -p $@

# The status page (GET / of the metrics address) is lb4/status.html, built
# in as a C string.
$(B)/gen/status_html.h: lb4/status.html | $(B)/gen
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' \
	    $< > $@.tmp && mv $@.tmp $@
$(B)/obj/statuspage.o: $(B)/gen/status_html.h
$(B)/obj/statuspage.o: CPPFLAGS += -I$(B)/gen

$(B)/lb4.a: $(LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/lb4: $(B)/obj/main.o $(B)/lb4.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/lb4ctl: $(B)/obj/lb4ctl.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/test/%: test/unit/%.c $(B)/lb4.a | $(B)/test
	$(CC) $(CPPFLAGS) $(CFLAGS) -Ilb4 $(shell pkg-config --cflags check) \
	    -o $@ $< $(B)/lb4.a $(LDFLAGS) $(LDLIBS) \
	    $(shell pkg-config --libs check)

# Test peers: no libraries beyond libc (SHA-256 is in test/tools/tcommon.h).
$(B)/tools/%: test/tools/%.c $(wildcard test/tools/*.h) | $(B)/tools
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -pthread

tools: $(TOOL_BINS)

# Missing Debian packages: installed when root, else the apt-get line.
deps-build:
	@test/deps.sh build
deps:
	@test/deps.sh build test

demo: deps-build all tools
	@test/demo.sh

check: deps
	$(MAKE) all tools $(UNIT_BINS)
	$(MAKE) check-unit
	$(MAKE) check-monitoring
	$(MAKE) check-integration
	$(MAKE) check-torture
	$(MAKE) check-pair
	$(MAKE) check-packages

check-unit: all $(UNIT_BINS)
	@test/run-unit.sh $(UNIT_BINS)

check-integration: all tools
	@test/integration/run.sh

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
ASAN_B		:= build-asan
ASAN_RUN	= LB4=$(CURDIR)/$(ASAN_B)/lb4 LB4CTL=$(CURDIR)/$(ASAN_B)/lb4ctl \
		  LB4_TEST_TIMEOUT=$(1) test/integration/run.sh
torture-asan:
	$(MAKE) B=$(ASAN_B) SANITIZE=1 all

check-torture: torture-asan tools
	@RACE_S=5 $(call ASAN_RUN,300) reload_torture t_reload_pool_drop \
	    t_reload_listener_race t_reload_partial t_reload_side_bind \
	    t_reload_during_stop

# The figures (seed, reloads, connections, bytes, sanitizer reports) are
# printed whether it passed or not.
stress-torture: torture-asan tools
	@TORTURE_RELOADS=$${TORTURE_RELOADS:-1000} \
	    TORTURE_S=$${TORTURE_S:-900} $(call ASAN_RUN,1200) reload_torture; \
	    rc=$$?; grep -h '^torture:' build/itest-logs/reload_torture.*.log; \
	    exit $$rc

# The long forms, for release: a list of parts.
check-stress: stress-torture

# Exit 77 is a loud SKIP (no root, no namespaces), counted as skipped.
check-pair: all
	@test/pair/run.sh || [ $$? -eq 77 ]

check-packages:
	@test/packages/run.sh || [ $$? -eq 77 ]

bench: all tools
	@test/bench/run.sh

lint: $(B)/gen/status_html.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -D_GNU_SOURCE -I$(B)/gen lb4/
	clang-tidy --quiet --warnings-as-errors='*' lb4/*.c -- $(CFLAGS) -Ilb4 \
	    -I$(B)/gen

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/lb4 \
	    $(DESTDIR)$(LIBDIR_LB4)/vrrp-hooks $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(B)/lb4 $(B)/lb4ctl $(DESTDIR)$(SBINDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/lb4/lb4.conf || \
	    install -m 0644 etc/lb4.conf $(DESTDIR)$(SYSCONFDIR)/lb4/lb4.conf
	for f in vrrp-hooks/*; do [ -f "$$f" ] && \
	    install -m 0755 "$$f" $(DESTDIR)$(LIBDIR_LB4)/vrrp-hooks/; done; true
	for f in docs/*.5; do [ -f "$$f" ] && \
	    install -m 0644 "$$f" $(DESTDIR)$(MANDIR)/man5/; done; true
	for f in docs/*.8; do [ -f "$$f" ] && \
	    install -m 0644 "$$f" $(DESTDIR)$(MANDIR)/man8/; done; true
	if [ -f etc/lb4.service ]; then install -d $(DESTDIR)$(UNITDIR) && \
	    install -m 0644 etc/lb4.service $(DESTDIR)$(UNITDIR)/; fi
	install -D -m 0644 etc/lb4.sysusers $(DESTDIR)$(SYSUSERSDIR)/lb4.conf
	[ ! -f README.md ] || install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	# Examples: the keepalived configs and drop-in, the nftables ruleset,
	# lb4.conf for a pair node, the Prometheus alert rules (and their
	# tests) and the Grafana dashboard.
	for f in etc/keepalived etc/nftables* etc/*.nft etc/lb4-*.conf \
	    etc/prometheus etc/grafana; do \
	    [ -e "$$f" ] && \
	    find "$$f" -type f; done | sort -u | while read -r f; do \
	    install -D -m 0644 "$$f" "$(DESTDIR)$(DOCDIR)/examples/$${f#etc/}" \
	    || exit 1; done

# Packages (SPEC section 8), built from a copy of the tree so that the
# source tree stays clean: git's files, tracked or not but not ignored, or,
# outside git, everything but build/.  Both leave their packages in build/.
PKG_VERSION	= $(shell sed -n 's/^Version:[[:space:]]*//p' packaging/rpm/lb4.spec)

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

deb:
	$(call copy_tree,$(B)/deb-src)
	cp -R packaging/debian $(B)/deb-src/debian
	rm -f $(B)/lb4_*.deb $(B)/lb4-dbgsym_*.deb $(B)/lb4_*.changes \
	    $(B)/lb4_*.buildinfo
	cd $(B)/deb-src && dpkg-buildpackage -us -uc -b -jauto
	@ls -l $(B)/lb4_*.deb

# On Debian (CI) there are no Fedora macros and no Fedora build
# dependencies: packaging/rpm/debian-shim.macros supplies the macros and
# --nodeps skips the BuildRequires.  Elsewhere the spec builds as it is.
RPM_TOP		= $(abspath $(B))/rpm
RPMBUILD_OPTS	?=
RPM_SHIM	= $(if $(wildcard /etc/debian_version),--nodeps \
		  --load $(abspath packaging/rpm/debian-shim.macros) \
		  --define '_lb4_shimdir $(abspath packaging/rpm)')

rpm:
	$(call copy_tree,$(RPM_TOP)/lb4-$(PKG_VERSION))
	mkdir -p $(RPM_TOP)/SOURCES
	tar -C $(RPM_TOP) -czf $(RPM_TOP)/SOURCES/lb4-$(PKG_VERSION).tar.gz \
	    lb4-$(PKG_VERSION)
	cp etc/lb4.sysusers $(RPM_TOP)/SOURCES/lb4.sysusers
	rm -rf $(RPM_TOP)/lb4-$(PKG_VERSION) $(B)/lb4-*.rpm
	rpmbuild -bb $(RPM_SHIM) $(RPMBUILD_OPTS) --define '_topdir $(RPM_TOP)' \
	    packaging/rpm/lb4.spec
	cp $(RPM_TOP)/RPMS/*/lb4-$(PKG_VERSION)-*.rpm $(B)/
	@ls -l $(B)/lb4-*.rpm

clean:
	rm -rf $(B)

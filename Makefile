# lb4 - Layer-4 TCP load balancer.  See README.md.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= /etc
LIBDIR_LB4	?= $(PREFIX)/lib/lb4
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/lb4
UNITDIR		?= /lib/systemd/system
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
	check-packages deps deps-build demo bench deb rpm tools lint

all: $(B)/lb4 $(B)/lb4ctl

$(B)/obj/%.o: lb4/%.c $(wildcard lb4/*.h) | $(B)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/obj $(B)/test $(B)/tools:
	mkdir -p $@

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

demo: deps-build all
	@test/demo.sh

check: deps
	$(MAKE) all tools $(UNIT_BINS)
	$(MAKE) check-unit
	$(MAKE) check-integration
	$(MAKE) check-pair
	$(MAKE) check-packages

check-unit: all $(UNIT_BINS)
	@test/run-unit.sh $(UNIT_BINS)

check-integration: all tools
	@test/integration/run.sh

check-pair: all
	@test/pair/run.sh

check-packages:
	@test/packages/run.sh

bench: all
	@test/bench/run.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -D_GNU_SOURCE lb4/
	clang-tidy --quiet lb4/*.c -- $(CFLAGS) -Ilb4

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

clean:
	rm -rf $(B)

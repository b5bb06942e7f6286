/*
 * fuzz_proxy.c: the PROXY header writer, proxy_header() (proxy.h).
 *
 * The input picks a version, a buffer size and two endpoints (a family,
 * 16 address bytes, a port each).  Every buffer and sockaddr is allocated
 * at its exact size so that ASan sees any byte read or written past it.
 * The header is then read back the way a receiver would and must say what
 * was given: haproxy's doc/proxy-protocol.txt, sections 2.1 and 2.2.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "fuzz.h"

/* What the input asks for, before the sockaddr is built. */
struct fend {
	int		 kind;		/* FEND_* */
	uint8_t		 ip[16];
	uint16_t	 port;
};

enum {
	FEND_NULL = 0,		/* no sockaddr at all */
	FEND_V4 = 1,
	FEND_V6 = 2,
	FEND_MAPPED = 3,	/* ::ffff:a.b.c.d */
	FEND_UNIX = 4,
	FEND_UNSPEC = 5,
	FEND_NKINDS
};

/* What the header must say about one end. */
struct want {
	int		 family;	/* AF_INET, AF_INET6, 0: unknown */
	uint8_t		 ip[16];
	uint16_t	 port;
};

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static uint8_t
take(const uint8_t **data, size_t *size)
{
	uint8_t	 b = 0;

	if (*size > 0) {
		b = **data;
		(*data)++;
		(*size)--;
	}
	return b;
}

static void
take_end(const uint8_t **data, size_t *size, struct fend *e)
{
	int	 i;

	e->kind = take(data, size) % FEND_NKINDS;
	for (i = 0; i < 16; i++)
		e->ip[i] = take(data, size);
	e->port = (uint16_t)(take(data, size) << 8);
	e->port |= take(data, size);
	if (e->kind == FEND_MAPPED) {
		memset(e->ip, 0, 10);
		e->ip[10] = e->ip[11] = 0xff;
	}
}

/* The sockaddr of <e>, malloc'd at its exact size, or NULL. */
static struct sockaddr *
make_sa(const struct fend *e)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	struct sockaddr_un	*sun;
	struct sockaddr		*sa;

	switch (e->kind) {
	case FEND_V4:
		if ((sin = calloc(1, sizeof(*sin))) == NULL)
			abort();
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, e->ip, 4);
		sin->sin_port = htons(e->port);
		return (struct sockaddr *)sin;
	case FEND_V6:
	case FEND_MAPPED:
		if ((sin6 = calloc(1, sizeof(*sin6))) == NULL)
			abort();
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, e->ip, 16);
		sin6->sin6_port = htons(e->port);
		return (struct sockaddr *)sin6;
	case FEND_UNIX:
		if ((sun = calloc(1, sizeof(*sun))) == NULL)
			abort();
		sun->sun_family = AF_UNIX;
		return (struct sockaddr *)sun;
	case FEND_UNSPEC:
		if ((sa = calloc(1, sizeof(*sa))) == NULL)
			abort();
		sa->sa_family = AF_UNSPEC;
		return sa;
	default:
		return NULL;
	}
}

/* <e> as the header must spell it, mapped IPv4 as plain IPv4 (whether
 * the input chose FEND_MAPPED or spelled the prefix itself). */
static void
want_of(const struct fend *e, struct want *w)
{
	static const uint8_t	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(w, 0, sizeof(*w));
	w->port = e->port;
	if (e->kind == FEND_V4) {
		w->family = AF_INET;
		memcpy(w->ip, e->ip, 4);
	} else if ((e->kind == FEND_V6 || e->kind == FEND_MAPPED) &&
	    memcmp(e->ip, mapped, sizeof(mapped)) == 0) {
		w->family = AF_INET;
		memcpy(w->ip, e->ip + 12, 4);
	} else if (e->kind == FEND_V6) {
		w->family = AF_INET6;
		memcpy(w->ip, e->ip, 16);
	}
}

/* A mix of families: the IPv4 end is written as ::ffff:a.b.c.d. */
static void
want_map(struct want *w)
{
	if (w->family != AF_INET)
		return;
	memmove(w->ip + 12, w->ip, 4);
	memset(w->ip, 0, 10);
	w->ip[10] = w->ip[11] = 0xff;
	w->family = AF_INET6;
}

/* Reads a v1 address token <tok> and checks it is <w>'s, canonical. */
static void
check_v1_ip(const char *tok, const struct want *w)
{
	uint8_t	 ip[16];
	char	 ref[INET6_ADDRSTRLEN];
	size_t	 i;

	FUZZ_CHECK(inet_pton(w->family, tok, ip) == 1, "bad address '%s'",
	    tok);
	FUZZ_CHECK(memcmp(ip, w->ip, w->family == AF_INET ? 4 : 16) == 0,
	    "address '%s' is not the one given", tok);
	inet_ntop(w->family, w->ip, ref, sizeof(ref));
	if (w->family == AF_INET) {
		FUZZ_CHECK(strcmp(tok, ref) == 0, "'%s' is not '%s'", tok,
		    ref);
		return;
	}
	/* v1 wants hex groups only, lower case, RFC 5952; glibc agrees
	 * whenever it does not choose a dotted quad. */
	FUZZ_CHECK(strchr(tok, '.') == NULL, "'%s' has a dotted quad", tok);
	for (i = 0; tok[i] != '\0'; i++)
		FUZZ_CHECK(strchr("0123456789abcdef:", tok[i]) != NULL,
		    "'%s' is not lower-case hex", tok);
	if (strchr(ref, '.') == NULL)
		FUZZ_CHECK(strcmp(tok, ref) == 0, "'%s' is not RFC 5952's "
		    "'%s'", tok, ref);
}

static void
check_v1_port(const char *tok, uint16_t port)
{
	char	 ref[8];

	snprintf(ref, sizeof(ref), "%u", port);
	FUZZ_CHECK(strcmp(tok, ref) == 0, "port '%s' is not %s", tok, ref);
}

static void
check_v1(const char *h, int n, const struct want *s, const struct want *d)
{
	char	 copy[PROXY_HEADER_MAX + 1], *tok[7], *save = NULL;
	int	 ntok = 0;

	FUZZ_CHECK(n <= PROXY_HEADER_MAX - 1, "v1 header of %d bytes", n);
	FUZZ_CHECK(n >= 8 && memcmp(h, "PROXY ", 6) == 0 &&
	    memcmp(h + n - 2, "\r\n", 2) == 0, "v1 header framing");
	FUZZ_CHECK(h[n] == '\0', "v1 header not NUL-terminated");
	FUZZ_CHECK(memchr(h, '\r', (size_t)n - 2) == NULL &&
	    memchr(h, '\n', (size_t)n - 2) == NULL &&
	    strlen(h) == (size_t)n, "CR, LF or NUL inside the v1 header");
	memcpy(copy, h, (size_t)n - 2);
	copy[n - 2] = '\0';
	/* Exactly one space between fields: split on single spaces. */
	FUZZ_CHECK(strstr(copy, "  ") == NULL, "double space in v1 header");
	for (tok[ntok] = strtok_r(copy, " ", &save); tok[ntok] != NULL &&
	    ntok < 6; tok[ntok] = strtok_r(NULL, " ", &save))
		ntok++;
	if (s->family == 0) {
		FUZZ_CHECK(ntok == 2 && strcmp(tok[1], "UNKNOWN") == 0,
		    "unknown ends give '%s'", h);
		return;
	}
	FUZZ_CHECK(ntok == 6, "v1 header has %d fields", ntok);
	FUZZ_CHECK(strcmp(tok[1], s->family == AF_INET ? "TCP4" : "TCP6") ==
	    0, "protocol '%s' for family %d", tok[1], s->family);
	check_v1_ip(tok[2], s);
	check_v1_ip(tok[3], d);
	check_v1_port(tok[4], s->port);
	check_v1_port(tok[5], d->port);
}

static void
check_v2(const uint8_t *h, int n, const struct want *s, const struct want *d)
{
	size_t	 iplen, alen;

	FUZZ_CHECK(n <= PROXY_HEADER_MAX, "v2 header of %d bytes", n);
	FUZZ_CHECK(n >= 16 && memcmp(h, v2_sig, sizeof(v2_sig)) == 0,
	    "v2 signature");
	FUZZ_CHECK((h[12] & 0xf0) == 0x20, "v2 version %#x", h[12]);
	alen = (size_t)h[14] << 8 | h[15];
	FUZZ_CHECK(alen == (size_t)n - 16, "v2 length field %zu, header %d",
	    alen, n);
	if (s->family == 0) {
		FUZZ_CHECK(h[12] == 0x20 && h[13] == 0x00 && n == 16,
		    "unknown ends: LOCAL, UNSPEC, no address");
		return;
	}
	iplen = s->family == AF_INET ? 4 : 16;
	FUZZ_CHECK(h[12] == 0x21, "v2 command %#x", h[12]);
	FUZZ_CHECK(h[13] == (iplen == 4 ? 0x11 : 0x21), "v2 family %#x for "
	    "%zu-byte addresses", h[13], iplen);
	FUZZ_CHECK(alen == 2 * iplen + 4, "v2 address block of %zu", alen);
	FUZZ_CHECK(memcmp(h + 16, s->ip, iplen) == 0 &&
	    memcmp(h + 16 + iplen, d->ip, iplen) == 0, "v2 addresses");
	FUZZ_CHECK(h[16 + 2 * iplen] == s->port >> 8 &&
	    h[17 + 2 * iplen] == (s->port & 0xff) &&
	    h[18 + 2 * iplen] == d->port >> 8 &&
	    h[19 + 2 * iplen] == (d->port & 0xff), "v2 ports");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum send_proxy versions[4] = {
		SEND_PROXY_NONE, SEND_PROXY_V1, SEND_PROXY_V2,
		(enum send_proxy)7
	};
	struct fend	 fs, fd;
	struct want	 ws, wd;
	struct sockaddr	*src, *dst;
	enum send_proxy	 version;
	char		*buf, full[PROXY_HEADER_MAX];
	size_t		 len;
	uint8_t		 b;
	int		 n, m;

	version = versions[take(&data, &size) % 4];
	b = take(&data, &size);
	len = b & 0x80 ? PROXY_HEADER_MAX : (size_t)(b % (PROXY_HEADER_MAX + 1));
	take_end(&data, &size, &fs);
	take_end(&data, &size, &fd);
	src = make_sa(&fs);
	dst = make_sa(&fd);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		abort();

	n = proxy_header(version, src, dst, buf, len);
	if (version != SEND_PROXY_V1 && version != SEND_PROXY_V2) {
		FUZZ_CHECK(n == -1, "version %d gave %d", version, n);
		goto done;
	}
	/* The full header, to tell "too small" from a refusal. */
	m = proxy_header(version, src, dst, full, sizeof(full));
	FUZZ_CHECK(m > 0, "no header in PROXY_HEADER_MAX bytes: %d", m);
	if (n == -1) {
		FUZZ_CHECK((size_t)m + (version == SEND_PROXY_V1) > len,
		    "refused a %zu-byte buffer for a %d-byte header", len, m);
		goto done;
	}
	FUZZ_CHECK(n == m && memcmp(buf, full, (size_t)n) == 0,
	    "header depends on the buffer size");
	want_of(&fs, &ws);
	want_of(&fd, &wd);
	if (ws.family == 0 || wd.family == 0)
		ws.family = wd.family = 0;
	else if (ws.family != wd.family) {
		want_map(&ws);
		want_map(&wd);
	}
	if (version == SEND_PROXY_V1)
		check_v1(full, m, &ws, &wd);
	else
		check_v2((const uint8_t *)full, m, &ws, &wd);
done:
	free(buf);
	free(src);
	free(dst);
	return 0;
}

/*
 * proxy.h: the PROXY protocol header (haproxy's doc/proxy-protocol.txt)
 * that a pool with send_proxy = "v1" or "v2" writes to the server before
 * any byte of the client.  Pure functions; no allocation.
 *
 * Families: when both addresses are IPv4, or IPv4-mapped IPv6
 * (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer), the
 * header says TCP4 (v2: \x11) with the plain IPv4 addresses, because that
 * is what the client really used.  When both are IPv6 it says TCP6
 * (\x21).  A mix of the two cannot come from one TCP socket; should it
 * happen, the IPv4 one is written mapped and the header says TCP6.  Any
 * other family gives "PROXY UNKNOWN\r\n" (v1) or a LOCAL command with
 * family UNSPEC and no address (v2).
 */
#ifndef LB4_PROXY_H
#define LB4_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"

/* v1's worst case is 107 bytes plus a NUL; v2 over TCP6 is 52. */
#define PROXY_HEADER_MAX	108

/*
 * Writes the <version> header of a connection from <src> (the client) to
 * <dst> (the address it connected to) into <buf> of <len> bytes.  Returns
 * the header's length (no NUL counted), or -1 when <version> is
 * SEND_PROXY_NONE or <len> is too small.
 */
int	proxy_header(enum send_proxy version, const struct sockaddr *src,
	    const struct sockaddr *dst, char *buf, size_t len);

#endif

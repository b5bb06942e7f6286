/*
 * connlog.h: how connections end, counted always and logged on request
 * (lb4.conf(5) CONNECTION LOG; HAProxy's tcplog and termination states).
 *
 * Workers never block on it and never format: each worker pushes a fixed
 * record into its own bounded ring (one producer, one consumer, no lock);
 * when the ring is full the record is dropped and counted.  The main
 * thread drains the rings every tick, formats the lines (text or JSON),
 * and hands them to a writer thread of their own through a bounded buffer:
 * a stalled log reader blocks that thread only, and what does not fit is
 * dropped and counted (lb4_log_dropped_total), so health checks, the
 * control socket and the watchdog never wait on the log.
 */
#ifndef LB4_CONNLOG_H
#define LB4_CONNLOG_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* How a connection ended; the order is the metrics' and the docs'. */
enum conn_end {
	END_CLIENT_FIN = 0,	/* the client closed first, normally */
	END_SERVER_FIN,		/* the server closed first, normally */
	END_CLIENT_RESET,	/* the client reset (or failed) */
	END_SERVER_RESET,	/* the server reset (or failed) */
	END_IDLE_TIMEOUT,	/* idle_timeout_ms with nothing moved */
	END_CONNECT_FAILED,	/* every connect attempt failed */
	END_NO_SERVER,		/* no server could take it */
	END_DENIED,		/* refused by allow/deny */
	END_LOCAL_ERROR,	/* this host ran out of something */
	END_SERVER_DOWN,	/* reset: its server was marked down */
	END_KEEPALIVE,		/* a peer stopped answering TCP keepalive */
	END_SHUTDOWN,		/* cut at shutdown_timeout_ms */
	END_MAX
};

/* One ended connection, as a worker saw it.  Copied, not pointed to. */
struct conn_record {
	char		 listener[48];	/* truncated past 47 bytes */
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}		 client, server;	/* server: AF_UNSPEC = none */
	uint64_t	 c2s, s2c;	/* bytes */
	uint32_t	 duration_ms;
	int32_t		 connect_ms;	/* -1 = no server reached */
	uint16_t	 tries;
	uint8_t		 end;		/* enum conn_end */
};

struct connlog_ring;

/* The name of <end> as the log and the metrics spell it. */
const char	*connlog_end_name(enum conn_end end);

/* A ring for one worker; NULL on ENOMEM. */
struct connlog_ring *connlog_ring_new(void);
void		 connlog_ring_free(struct connlog_ring *r);

/* Worker: queues <rec>; never blocks.  Returns 0, or -1 when full. */
int		 connlog_push(struct connlog_ring *r,
		    const struct conn_record *rec);

/*
 * Main thread.  connlog_start() starts the writer thread on fd 2 (0 or
 * -1); connlog_drain() formats what the <n> rings hold, as JSON when
 * <json>; connlog_stop() writes out what is buffered and joins.
 */
int		 connlog_start(void);
void		 connlog_drain(struct connlog_ring *const *rings, int n,
		    int json);
void		 connlog_stop(void);

/* Records and lines dropped so far (rings full, or writer behind). */
uint64_t	 connlog_dropped(struct connlog_ring *const *rings, int n);

#endif

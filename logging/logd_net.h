/* SPDX-License-Identifier: GPL-2.0 */
/*
 * logd_conn: a sink's connection (logd_net.c). UDP, TCP, TLS, unix
 * datagram; framing is the caller's. Used only by the sink's own thread.
 */
#ifndef PLUMWALL_LOGD_NET_H
#define PLUMWALL_LOGD_NET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plumwall/config.h>

struct ssl_st;
struct ssl_ctx_st;

/*
 * How long an open or a send may block: LOGD_IO_TIMEOUT_MS from its start
 * (in all, however slowly a peer reads or answers), and never past
 * *stop_ns, the sink's drain deadline once it is stopping (UINT64_MAX
 * before). wake_fd becomes readable when *stop_ns is set, so that a wait
 * already under way learns of the deadline.
 */
struct logd_conn {
	int fd; /* -1: closed; non-blocking */
	struct ssl_ctx_st *ctx; /* TLS: kept across reconnects */
	struct ssl_st *ssl;
	int wake_fd; /* -1: none */
	const _Atomic uint64_t *stop_ns; /* NULL: none */
};

#define LOGD_CONN_INIT                  \
	{                               \
		.fd = -1, .wake_fd = -1 \
	}

/* Connect per @cfg's transport (for TLS, with the handshake); on failure
 * @err says why (-ETIMEDOUT: the time above ran out). */
int logd_conn_open(struct logd_conn *c, const struct pw_sink *cfg, char *err,
		   size_t errlen);
/* The peer closed or reset the connection (checked before sending, so
 * that an event is not written into a connection already half gone). */
bool logd_conn_peer_gone(struct logd_conn *c);
/* Send all of @buf (one datagram for UDP and unix); *@sent: bytes sent
 * even on error (-ETIMEDOUT: the time above ran out). */
int logd_conn_send(struct logd_conn *c, const void *buf, size_t len,
		   size_t *sent);
void logd_conn_close(struct logd_conn *c);
void logd_conn_free(struct logd_conn *c); /* close + the TLS context */

#endif /* PLUMWALL_LOGD_NET_H */

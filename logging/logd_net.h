/* SPDX-License-Identifier: GPL-2.0 */
/*
 * logd_conn: a sink's connection (logd_net.c). UDP, TCP, TLS, unix
 * datagram; framing is the caller's. Used only by the sink's own thread.
 */
#ifndef PLUMWALL_LOGD_NET_H
#define PLUMWALL_LOGD_NET_H

#include <stdbool.h>
#include <stddef.h>

#include <plumwall/config.h>

struct ssl_st;
struct ssl_ctx_st;

struct logd_conn {
	int fd; /* -1: closed */
	struct ssl_ctx_st *ctx; /* TLS: kept across reconnects */
	struct ssl_st *ssl;
};

#define LOGD_CONN_INIT { .fd = -1 }

/* Connect per @cfg's transport; on failure @err says why. */
int logd_conn_open(struct logd_conn *c, const struct pw_sink *cfg, char *err,
		   size_t errlen);
/* The peer closed or reset the connection (checked before sending, so
 * that an event is not written into a connection already half gone). */
bool logd_conn_peer_gone(struct logd_conn *c);
/* Send all of @buf (one datagram for UDP and unix); *@sent: bytes sent
 * even on error. */
int logd_conn_send(struct logd_conn *c, const void *buf, size_t len,
		   size_t *sent);
void logd_conn_close(struct logd_conn *c);
void logd_conn_free(struct logd_conn *c); /* close + the TLS context */

#endif /* PLUMWALL_LOGD_NET_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Connections of the network and local sinks: UDP (RFC 5426: one message
 * per datagram), TCP (RFC 6587, the framing is the caller's), TLS over TCP
 * (RFC 5425, OpenSSL, the server verified against the sink's ca_file and
 * its address: host name or IP), and the local syslog socket (datagram,
 * /dev/log).
 *
 * Sockets are non-blocking; connects, TLS handshakes and sends wait in
 * poll() for as long as logd_net.h allows: LOGD_IO_TIMEOUT_MS per
 * operation in all (a peer that reads a byte now and then cannot hold a
 * send longer, as a per-call SO_SNDTIMEO would let it), and not past the
 * sink's drain deadline once it is stopping. It runs in the sink's own
 * thread, so waiting stalls only that sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "logging/logd.h"
#include "logging/logd_net.h"

/* When an operation starting now must be done. */
static uint64_t logd_net_until(void)
{
	return logd_now_ns() + LOGD_IO_TIMEOUT_MS * 1000000ULL;
}

/*
 * Wait until c->fd is ready for @events, at most until @until and the
 * drain deadline. 0: ready (or an error the next call will report),
 * -ETIMEDOUT, or -errno of poll().
 */
static int logd_net_wait(struct logd_conn *c, short events, uint64_t until)
{
	struct pollfd p[2] = { { .fd = c->fd, .events = events },
			       { .fd = c->wake_fd, .events = POLLIN } };
	uint64_t now, stop, limit;
	int n;

	for (;;) {
		stop = c->stop_ns ? atomic_load(c->stop_ns) : UINT64_MAX;
		limit = stop < until ? stop : until;
		now = logd_now_ns();
		if (now >= limit)
			return -ETIMEDOUT;
		/* Once the deadline is known the wake-up has done its job
		 * (it stays readable: it is never drained). */
		n = poll(p, stop == UINT64_MAX && c->wake_fd >= 0 ? 2 : 1,
			 (int)((limit - now + 999999) / 1000000));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[0].revents)
			return 0;
	}
}

/* connect() with a bounded wait; the socket stays non-blocking. */
static int logd_net_connect_fd(struct logd_conn *c, const struct sockaddr *sa,
			       socklen_t len)
{
	int fl = fcntl(c->fd, F_GETFL), err = 0, ret;
	socklen_t elen = sizeof(err);

	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	if (!connect(c->fd, sa, len))
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	ret = logd_net_wait(c, POLLOUT, logd_net_until());
	if (ret)
		return ret;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		return -errno;
	return -err;
}

static int logd_net_inet(struct logd_conn *c, const struct pw_sink *cfg,
			 int socktype, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = socktype,
				  .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int ret, fd;

	snprintf(port, sizeof(port), "%u", cfg->port);
	ret = getaddrinfo(cfg->address, port, &hints, &res);
	if (ret == EAI_ADDRFAMILY || ret == EAI_NONAME) {
		/* AI_ADDRCONFIG hides 127.0.0.1 on a host with only lo */
		hints.ai_flags = 0;
		ret = getaddrinfo(cfg->address, port, &hints, &res);
	}
	if (ret) {
		snprintf(err, errlen, "cannot resolve %s: %s", cfg->address,
			 gai_strerror(ret));
		return ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		c->fd = fd;
		ret = logd_net_connect_fd(c, ai->ai_addr, ai->ai_addrlen);
		if (!ret)
			break;
		close(fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (ret)
		snprintf(err, errlen, "cannot connect to %s port %u: %s",
			 cfg->address, cfg->port, strerror(-ret));
	else if (socktype == SOCK_STREAM)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
			   sizeof(int));
	return ret;
}

static int logd_net_unix(struct logd_conn *c, const struct pw_sink *cfg,
			 char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(cfg->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", cfg->path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, cfg->path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", cfg->path,
			 strerror(-ret));
		close(fd);
		return ret;
	}
	c->fd = fd;
	return 0;
}

/* The first OpenSSL error as text. */
static void logd_tls_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "failed");
	ERR_clear_error();
}

static int logd_net_tls(struct logd_conn *c, const struct pw_sink *cfg,
			char *err, size_t errlen)
{
	unsigned char ip[16];
	X509_VERIFY_PARAM *vp;
	uint64_t until;
	int ret, r, e;
	long vr;

	ret = logd_net_inet(c, cfg, SOCK_STREAM, err, errlen);
	if (ret)
		return ret;
	if (!c->ctx) {
		/* Built once per connection attempt series; the CA file is
		 * read again after a SIGHUP reload (a new sink). */
		c->ctx = SSL_CTX_new(TLS_client_method());
		if (!c->ctx) {
			logd_tls_err(err, errlen, "TLS");
			return -ENOMEM;
		}
		SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_load_verify_locations(c->ctx, cfg->ca_file, NULL) !=
		    1) {
			logd_tls_err(err, errlen, cfg->ca_file);
			SSL_CTX_free(c->ctx);
			c->ctx = NULL;
			return -EINVAL;
		}
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
		logd_tls_err(err, errlen, "TLS");
		return -ENOMEM;
	}
	/* The server's certificate must name what we connect to. */
	vp = SSL_get0_param(c->ssl);
	if (inet_pton(AF_INET, cfg->address, ip) == 1 ||
	    inet_pton(AF_INET6, cfg->address, ip) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, cfg->address);
	} else {
		SSL_set_tlsext_host_name(c->ssl, cfg->address);
		X509_VERIFY_PARAM_set_hostflags(
			vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(vp, cfg->address, 0);
	}
	/* The handshake on the non-blocking socket, in one bounded wait
	 * however the server spreads its answer over time. */
	until = logd_net_until();
	while ((r = SSL_connect(c->ssl)) != 1) {
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		ret = logd_net_wait(
			c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, until);
		if (ret) {
			snprintf(err, errlen,
				 "TLS handshake with %s port %u: %s",
				 cfg->address, cfg->port, strerror(-ret));
			ERR_clear_error();
			return ret;
		}
	}
	if (r != 1) {
		vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK) {
			snprintf(
				err, errlen,
				"TLS handshake with %s port %u: certificate not trusted: %s",
				cfg->address, cfg->port,
				X509_verify_cert_error_string(vr));
			ERR_clear_error();
		} else {
			char what[300];

			snprintf(what, sizeof(what),
				 "TLS handshake with %s port %u", cfg->address,
				 cfg->port);
			logd_tls_err(err, errlen, what);
		}
		return -ECONNABORTED;
	}
	return 0;
}

int logd_conn_open(struct logd_conn *c, const struct pw_sink *cfg, char *err,
		   size_t errlen)
{
	int ret;

	logd_conn_close(c);
	switch (cfg->transport) {
	case PW_SINK_UDP:
		ret = logd_net_inet(c, cfg, SOCK_DGRAM, err, errlen);
		break;
	case PW_SINK_TCP:
		ret = logd_net_inet(c, cfg, SOCK_STREAM, err, errlen);
		break;
	case PW_SINK_TLS:
		ret = logd_net_tls(c, cfg, err, errlen);
		break;
	case PW_SINK_UNIX:
		ret = logd_net_unix(c, cfg, err, errlen);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret)
		logd_conn_close(c);
	return ret;
}

bool logd_conn_peer_gone(struct logd_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
	char buf[4096];
	int i, n, e;

	if (c->fd < 0)
		return true;
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLERR | POLLHUP | POLLRDHUP))
		return true;
	/* Plain TCP: what a receiver says (it should say nothing) is left
	 * unread. Datagram sockets: an ICMP error is reported by the next
	 * send. */
	if (!(p.revents & POLLIN) || !c->ssl)
		return false;
	/* TLS: the bytes may be a close_notify or garbage (gone), but also
	 * what a server sends after the handshake, such as TLS 1.3 session
	 * tickets: OpenSSL reads those itself, and then wants more. (Taken
	 * as a close, every batch reconnected; a server that accepts one
	 * connection got three events.) Application data a receiver should
	 * not send is read and dropped, a bounded amount at a time. */
	for (i = 0; i < 64; i++) {
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n > 0)
			continue;
		e = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
	}
	return false;
}

int logd_conn_send(struct logd_conn *c, const void *buf, size_t len,
		   size_t *sent)
{
	uint64_t until = logd_net_until();
	const char *p = buf;
	short wait;
	ssize_t n;
	int ret, e;

	*sent = 0;
	if (c->fd < 0)
		return -ENOTCONN;
	while (*sent < len) {
		wait = 0;
		if (c->ssl) {
			/* After a WANT_*, the same arguments again (OpenSSL
			 * requires it); the record is then completed. */
			n = SSL_write(c->ssl, p + *sent, (int)(len - *sent));
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				ERR_clear_error();
				if (e == SSL_ERROR_WANT_WRITE)
					wait = POLLOUT;
				else if (e == SSL_ERROR_WANT_READ)
					wait = POLLIN;
				else
					return -EPIPE;
			}
		} else {
			n = send(c->fd, p + *sent, len - *sent, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN)
				return -errno;
			if (n < 0)
				wait = POLLOUT;
		}
		if (wait) {
			ret = logd_net_wait(c, wait, until);
			if (ret)
				return ret;
			continue;
		}
		*sent += n;
	}
	return 0;
}

void logd_conn_close(struct logd_conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void logd_conn_free(struct logd_conn *c)
{
	logd_conn_close(c);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	c->ctx = NULL;
}

/*
 * The header-injection self-test's loopback peer (src/pipeline/propagation-selftest.ts). It moves
 * itself into the cgroup named on its command line (where the agent attached its sockops program),
 * says "ready", waits for "go" (the agent traces it meanwhile), then runs, over loopback, with
 * blocking sockets, what was found to break an application whose socket is in a sockhash
 * (docs/devdocs/propagation.md):
 *   fionread:  FIONREAD after 100 bytes arrived (0 on sockhash sockets without the sk_skb program);
 *   keepalive: three HTTP/1.1 requests on one connection: each must arrive as sent plus one
 *              traceparent line after the request line, each answered within the round-trip limit
 *              (a split head waits ~40 ms for the delayed ACK);
 *   bigsend:   a 4 MiB blocking send(), then a blocking recv() of the answer, on fresh connections
 *              (EAGAIN there is the sockhash wake-up bug).
 * It prints one JSON line with what it saw; the agent judges it. It knows no BPF.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BIG (4 << 20)
#define BIG_ROUNDS 10
#define KA_ROUNDS 3
#define TP_LEN 70

static int listen_fd;
static struct sockaddr_in addr;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t w = send(fd, buf + put, n - put, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	return fd;
}

/* the server side of each check, one connection at a time */
static char *big_buf;
static int ka_exact, ka_injected;
static void *serve(void *arg)
{
	(void)arg;
	/* fionread: send 100 bytes */
	int c = accept(listen_fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char hundred[100];
	memset(hundred, 'f', sizeof(hundred));
	write_full(c, hundred, sizeof(hundred));
	char one;
	recv(c, &one, 1, 0); /* the client is done */
	close(c);
	/* keepalive: requests with a 5-byte body; each must be the sent bytes plus one traceparent line */
	c = accept(listen_fd, NULL, NULL);
	if (c < 0)
		return NULL;
	for (int i = 0; i < KA_ROUNDS; i++) {
		char want[128], got[256];
		int n = snprintf(want, sizeof(want),
		                 "GET /obi-ts-selftest/%d HTTP/1.1\r\nHost: selftest\r\nContent-Length: 5\r\n\r\nhello",
		                 i);
		int line = (int)(strstr(want, "\r\n") - want) + 2;
		/* read the head (to its empty line) and the body */
		int have = 0;
		char *end = NULL;
		while (have < (int)sizeof(got) - 1 && !end) {
			ssize_t r = recv(c, got + have, sizeof(got) - 1 - have, 0);
			if (r <= 0)
				goto out;
			have += (int)r;
			got[have] = 0;
			end = strstr(got, "\r\n\r\n");
		}
		if (!end)
			goto out;
		int total = (int)(end - got) + 4 + 5;
		if (total > (int)sizeof(got) - 1 || (have < total && read_full(c, got + have, total - have)))
			goto out;
		int injected = total == n + TP_LEN && memcmp(got + line, "traceparent: 00-", 16) == 0 &&
		               memcmp(got + line + TP_LEN - 5, "-01\r\n", 5) == 0;
		if (injected)
			ka_injected++;
		if ((injected && memcmp(got, want, line) == 0 &&
		     memcmp(got + line + TP_LEN, want + line, n - line) == 0) ||
		    (!injected && total == n && memcmp(got, want, n) == 0))
			ka_exact++;
		const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		write_full(c, resp, strlen(resp));
	}
out:
	close(c);
	/* bigsend: read 4 MiB, answer "ok" */
	for (int i = 0; i < BIG_ROUNDS; i++) {
		c = accept(listen_fd, NULL, NULL);
		if (c < 0)
			return NULL;
		if (read_full(c, big_buf, BIG) == 0)
			write_full(c, "ok", 2);
		recv(c, &one, 1, 0);
		close(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: obi-selftest CGROUP_PROCS_FILE\n");
		return 2;
	}
	int cg = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (cg < 0 || write(cg, "0", 1) != 1) {
		printf("{\"error\":\"cannot join the cgroup: %s\"}\n", strerror(errno));
		return 1;
	}
	close(cg);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(addr);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(listen_fd, 16) ||
	    getsockname(listen_fd, (struct sockaddr *)&addr, &alen)) {
		printf("{\"error\":\"cannot listen on loopback: %s\"}\n", strerror(errno));
		return 1;
	}
	big_buf = malloc(BIG);
	char *send_buf = malloc(BIG);
	if (!big_buf || !send_buf)
		return 1;
	memset(send_buf, 'b', BIG);
	printf("ready\n");
	fflush(stdout);
	char go[8];
	if (!fgets(go, sizeof(go), stdin))
		return 1;
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);

	/* fionread */
	int fionread = -1;
	int fd = dial();
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 2000) == 1) {
			usleep(20000); /* all 100 bytes in */
			if (ioctl(fd, FIONREAD, &fionread))
				fionread = -1;
		}
		char b[100];
		read_full(fd, b, sizeof(b));
		send(fd, "x", 1, MSG_NOSIGNAL);
		close(fd);
	}
	/* keepalive */
	double max_ms = 0;
	int ka_answered = 0;
	fd = dial();
	for (int i = 0; fd >= 0 && i < KA_ROUNDS; i++) {
		char req[128], resp[128];
		int n = snprintf(req, sizeof(req),
		                 "GET /obi-ts-selftest/%d HTTP/1.1\r\nHost: selftest\r\nContent-Length: 5\r\n\r\nhello",
		                 i);
		double t0 = now_ms();
		if (write_full(fd, req, n))
			break;
		const char *want = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		if (read_full(fd, resp, strlen(want)))
			break;
		double ms = now_ms() - t0;
		if (ms > max_ms)
			max_ms = ms;
		ka_answered++;
	}
	if (fd >= 0)
		close(fd);
	/* bigsend */
	int big_ok = 0, big_eagain = 0, big_other = 0;
	for (int i = 0; i < BIG_ROUNDS; i++) {
		fd = dial();
		if (fd < 0) {
			big_other++;
			continue;
		}
		char ok[2];
		if (write_full(fd, send_buf, BIG)) {
			big_other++;
		} else {
			ssize_t r = recv(fd, ok, 2, 0);
			if (r == 1 && recv(fd, ok + 1, 1, 0) == 1)
				r = 2;
			if (r == 2 && ok[0] == 'o' && ok[1] == 'k')
				big_ok++;
			else if (r < 0 && errno == EAGAIN)
				big_eagain++;
			else
				big_other++;
		}
		send(fd, "x", 1, MSG_NOSIGNAL);
		close(fd);
	}
	pthread_join(th, NULL);
	printf("{\"fionread\":%d,\"keepalive\":{\"rounds\":%d,\"answered\":%d,\"injected\":%d,\"exact\":%d,\"maxMs\":%."
	       "2f},"
	       "\"bigsend\":{\"rounds\":%d,\"ok\":%d,\"eagain\":%d,\"other\":%d}}\n",
	       fionread, KA_ROUNDS, ka_answered, ka_injected, ka_exact, max_ms, BIG_ROUNDS, big_ok, big_eagain,
	       big_other);
	return 0;
}

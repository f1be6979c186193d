/* rawsend.c: the baseline of `make bench-impls`: a plain sendto() loop of
 * UDP datagrams, what every implementation's workloads are divided by.
 *
 *   apmsock-rawsend ADDRESS PORT SIZE [OPS]
 *
 * Sends OPS datagrams of SIZE bytes (byte 0 is 4, the raw tag of
 * harness/apmsock_harness/benchreply.py; the rest 0) from one IPv4 UDP
 * socket to ADDRESS:PORT, then prints one JSON line:
 * {"sent": n, "seconds": s, "rate": ops/s}.  The receiver is the caller's.
 * Without OPS it serves: each line of stdin is an OPS, answered by one
 * run and its line, until end of input.  Why: the driver keeps it alive
 * like the adapters it is compared with, so the scheduler treats both
 * alike (a task just forked starts behind the CPU hogs of a loaded
 * machine; one woken from a long sleep starts ahead of them).
 * Exit 0, or 1 when a sendto fails (the errno on stderr), 4 on bad
 * arguments.  Blocking sockets: a full send buffer waits, never spins. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAW_TAG 4
#define MAX_SIZE 65507

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long number(const char *s, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return errno || *end || end == s || v < lo || v > hi ? -1 : v;
}

#define MAX_OPS 100000000

static unsigned char payload[MAX_SIZE];

/* One run: ops datagrams, then its JSON line.  False when a sendto failed. */
static int run(int fd, const struct sockaddr_in *to, long size, long ops) {
  double t0 = now();
  for (long i = 0; i < ops; i++) {
    if (sendto(fd, payload, (size_t)size, 0, (const struct sockaddr *)to, sizeof *to) != size) {
      if (errno == EINTR) {
        i--;
        continue;
      }
      perror("apmsock-rawsend: sendto");
      return 0;
    }
  }
  double secs = now() - t0;
  printf("{\"sent\": %ld, \"seconds\": %.9f, \"rate\": %.3f}\n", ops, secs, secs > 0 ? ops / secs : 0.0);
  fflush(stdout);
  return 1;
}

int main(int argc, char **argv) {
  struct sockaddr_in to = {.sin_family = AF_INET};
  bool ok_args = argc == 4 || argc == 5;
  long port = ok_args ? number(argv[2], 1, 65535) : -1;
  long size = ok_args ? number(argv[3], 1, MAX_SIZE) : -1;
  long ops = argc == 5 ? number(argv[4], 1, MAX_OPS) : 0;
  if (!ok_args || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || port < 0 || size < 0 || ops < 0) {
    fputs("usage: apmsock-rawsend ADDRESS PORT SIZE [OPS] (IPv4 literal, 1-65535, 1-65507, 1-100000000;"
          " without OPS, one OPS per line of stdin)\n", stderr);
    return 4;
  }
  to.sin_port = htons((uint16_t)port);
  payload[0] = RAW_TAG;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("apmsock-rawsend: socket");
    return 1;
  }
  if (argc == 5) {
    int ok = run(fd, &to, size, ops);
    close(fd);
    return ok ? 0 : 1;
  }
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    ops = number(line, 1, MAX_OPS);
    if (ops < 0) {
      fprintf(stderr, "apmsock-rawsend: not a count of 1-100000000: %s\n", line);
      close(fd);
      return 4;
    }
    if (!run(fd, &to, size, ops)) {
      close(fd);
      return 1;
    }
  }
  close(fd);
  return 0;
}

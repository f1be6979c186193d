/* rawsend.c: the baseline of `make bench-impls`: a plain sendto() loop of
 * UDP datagrams, what every implementation's workloads are divided by.
 *
 *   apmsock-rawsend ADDRESS PORT SIZE OPS
 *
 * Sends OPS datagrams of SIZE bytes (byte 0 is 4, the raw tag of
 * harness/apmsock_harness/benchreply.py; the rest 0) from one IPv4 UDP
 * socket to ADDRESS:PORT, then prints one JSON line:
 * {"sent": n, "seconds": s, "rate": ops/s}.  The receiver is the caller's.
 * Exit 0, or 1 when a sendto fails (the errno on stderr), 4 on bad
 * arguments.  Blocking sockets: a full send buffer waits, never spins. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

int main(int argc, char **argv) {
  struct sockaddr_in to = {.sin_family = AF_INET};
  long port = argc == 5 ? number(argv[2], 1, 65535) : -1;
  long size = argc == 5 ? number(argv[3], 1, MAX_SIZE) : -1;
  long ops = argc == 5 ? number(argv[4], 1, 100000000) : -1;
  if (argc != 5 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || port < 0 || size < 0 || ops < 0) {
    fputs("usage: apmsock-rawsend ADDRESS PORT SIZE OPS (IPv4 literal, 1-65535, 1-65507, 1-100000000)\n",
          stderr);
    return 4;
  }
  to.sin_port = htons((uint16_t)port);
  static unsigned char payload[MAX_SIZE];
  payload[0] = RAW_TAG;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("apmsock-rawsend: socket");
    return 1;
  }
  double t0 = now();
  for (long i = 0; i < ops; i++) {
    if (sendto(fd, payload, (size_t)size, 0, (struct sockaddr *)&to, sizeof to) != size) {
      if (errno == EINTR) {
        i--;
        continue;
      }
      perror("apmsock-rawsend: sendto");
      return 1;
    }
  }
  double secs = now() - t0;
  close(fd);
  printf("{\"sent\": %ld, \"seconds\": %.9f, \"rate\": %.3f}\n", ops, secs, secs > 0 ? ops / secs : 0.0);
  return 0;
}

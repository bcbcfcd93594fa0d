/*
 * wirecost-link: an emulated network path between two network namespaces, in the manner of
 * Mahimahi: a TUN device in each namespace and this process moving whole IP packets between
 * them. Built at first use by bench/link/build.ts with the system's cc; no privileges beyond
 * those the namespaces need (root, /dev/net/tun).
 *
 *   wirecost-link forward --ns-a PATH --dev-a NAME --addr-a A --ns-b PATH --dev-b NAME --addr-b B
 *                         [--delay-us N] [--jitter-us N] [--rate-bps N] [--queue-bytes N]
 *                         [--loss-ppm N] [--seed N] [--mtu N] [--owner PID]
 *
 * Every shaping option sets both directions; prefixed with up- (a to b) or down- (b to a) it
 * sets one. Per direction: a packet is lost at random (loss-ppm, parts per million, from a
 * seeded generator), else it waits in a drop-tail queue of queue-bytes behind the link's rate
 * (rate-bps; 0: no limit), then travels delay-us (plus a jitter of up to +/- jitter-us that
 * never reorders), and is written to the other device. IPv4 only; anything else is counted
 * and not forwarded.
 *
 * It creates each device inside its namespace (setns), gives it its address with the other
 * side's as peer, and prints one JSON line when ready. On standard input it takes lines:
 *   stats     one JSON line of counters (and the namespaces' TCP counters)
 *   cut MS    nothing passes either way for MS milliseconds; what arrives is held, in order
 *   trace N   record the next N packets: direction, when read and delivered, TCP flags, payload, ports
 *   dump      one JSON line of the trace: [up, readUs, deliveredUs (-1: dropped), flags, payload, sport, dport]
 *   quit      exit (end of input too; and the death of the process that started it)
 * The devices go with the process: they are not persistent.
 *
 *   wirecost-link probe <rtt|connect|bulk|flood|http> --ns-a PATH --ns-b PATH --addr-b B [...]
 *
 * One process with a socket in each namespace, timing the path between them: rtt (one-byte
 * round trips on one connection, --count), connect (--count new connections), bulk (--bytes
 * from b to a on one connection), flood (numbered UDP datagrams from a to b: --packets of them,
 * or for --ms; received until none came for --drain-ms, reorderings counted), http (a GET of
 * --path to --port on b on a new connection, --count times). Prints one JSON line; a connection
 * that --timeout-ms (default 10000) does not see made prints {"kind":"connect","error":...} and exits 3.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 2048
#define MAX_SLOTS (1u << 16)
#define READ_BATCH 64

static void die(const char *what) {
  fprintf(stderr, "wirecost-link: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *message) {
  fprintf(stderr, "wirecost-link: %s\n", message);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, seeded, the same sequence everywhere */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------------------------ */
/* namespaces and devices                                                                      */

static int original_ns = -1;
/* probes: how long to wait for the path before giving up */
static uint64_t timeout_ms = 10000;

static void enter_ns(int ns_fd) {
  if (setns(ns_fd, CLONE_NEWNET) != 0) die("setns");
}

static int open_ns(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  return fd;
}

static void write_quietly(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) { /* no IPv6 here: nothing to turn off */
  }
  close(fd);
}

static void set_flags(int sock, const char *name, short on) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS");
  ifr.ifr_flags |= on;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS");
}

static void set_address(int sock, const char *name, unsigned long request, const char *address) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
  sin->sin_family = AF_INET;
  if (inet_pton(AF_INET, address, &sin->sin_addr) != 1) fail("not an IPv4 address");
  if (ioctl(sock, request, &ifr) != 0) die(address);
}

/* Creates the TUN device `name` inside the namespace at `ns_path`, addressed `local` with `peer` at the other end. */
static int create_tun(int ns_fd, const char *name, const char *local, const char *peer, int mtu) {
  enter_ns(ns_fd);
  /* no IPv6 chatter (router solicitations, MLD) on the emulated path: IPv4 only */
  write_quietly("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
  write_quietly("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF");
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) die("socket");
  set_flags(sock, "lo", IFF_UP);
  set_address(sock, name, SIOCSIFADDR, local);
  set_address(sock, name, SIOCSIFDSTADDR, peer);
  set_address(sock, name, SIOCSIFNETMASK, "255.255.255.255");
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  ifr.ifr_mtu = mtu;
  if (ioctl(sock, SIOCSIFMTU, &ifr) != 0) die("SIOCSIFMTU");
  /* the kernel's queue in front of the forwarder: long, so that only the emulated queue drops */
  ifr.ifr_qlen = 10000;
  if (ioctl(sock, SIOCSIFTXQLEN, &ifr) != 0) die("SIOCSIFTXQLEN");
  set_flags(sock, name, IFF_UP | IFF_RUNNING);
  close(sock);
  enter_ns(original_ns);
  return fd;
}

/* ------------------------------------------------------------------------------------------ */
/* the forwarder                                                                               */

struct shape {
  uint64_t delay_ns, jitter_ns, rate_bps, queue_bytes;
  uint32_t loss_ppm;
};

struct counters {
  uint64_t packets, ip_bytes, tcp_segments, tcp_payload_bytes, pure_acks, syn, fin, rst;
  uint64_t delivered, dropped_loss, dropped_queue, dropped_overflow, write_errors, not_ipv4;
  uint64_t queue_wait_ns_sum, queue_wait_ns_max, max_backlog_bytes;
};

struct slot {
  uint64_t due;
  uint32_t length;
  /* its entry in the trace, or -1 */
  int32_t traced;
  uint8_t data[SLOT_BYTES];
};

/* The trace: for the first packets after "trace N", when each was read and delivered. */
struct trace_entry {
  uint8_t up, flags;
  uint16_t source_port, destination_port;
  uint32_t payload;
  uint64_t read_ns, delivered_ns;
};
static struct trace_entry *trace_entries = NULL;
static uint32_t trace_limit = 0, trace_count = 0;
static uint64_t trace_start = 0;

static int32_t trace_packet(int up, const uint8_t *p, uint32_t length, uint64_t now) {
  if (trace_count >= trace_limit || length < 20) return -1;
  struct trace_entry *e = &trace_entries[trace_count];
  memset(e, 0, sizeof *e);
  e->up = (uint8_t)up;
  e->read_ns = now;
  uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
  uint32_t total = ((uint32_t)p[2] << 8) | p[3];
  if ((p[9] == IPPROTO_TCP || p[9] == IPPROTO_UDP) && total <= length && ihl + 8 <= total) {
    const uint8_t *l4 = p + ihl;
    e->source_port = (uint16_t)((l4[0] << 8) | l4[1]);
    e->destination_port = (uint16_t)((l4[2] << 8) | l4[3]);
    if (p[9] == IPPROTO_TCP && ihl + 20 <= total) {
      uint32_t offset = (uint32_t)(l4[12] >> 4) * 4;
      e->flags = l4[13];
      e->payload = total > ihl + offset ? total - ihl - offset : 0;
    } else {
      e->payload = total - ihl - 8;
    }
  }
  return (int32_t)trace_count++;
}

static void print_trace(void) {
  printf("{\"type\":\"trace\",\"packets\":[");
  for (uint32_t i = 0; i < trace_count; i++) {
    const struct trace_entry *e = &trace_entries[i];
    printf("%s[%d,%.3f,%.3f,%u,%u,%u,%u]", i == 0 ? "" : ",", e->up, (double)(e->read_ns - trace_start) / 1e3,
           e->delivered_ns == 0 ? -1.0 : (double)(e->delivered_ns - trace_start) / 1e3, e->flags, e->payload, e->source_port, e->destination_port);
  }
  printf("]}\n");
  fflush(stdout);
}

struct direction {
  const char *name;
  struct shape shape;
  struct counters c;
  struct slot *ring;
  uint32_t capacity, head, count;
  uint64_t busy_until, last_due, random;
  int in_fd, out_fd;
};

static uint64_t cut_until = 0;
static uint64_t last_packet_ns = 0;

static void count_packet(struct counters *c, const uint8_t *p, uint32_t length) {
  c->packets++;
  c->ip_bytes += length;
  if (length < 20) return;
  uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
  uint32_t total = ((uint32_t)p[2] << 8) | p[3];
  if (p[9] != IPPROTO_TCP || total > length || ihl + 20 > total) return;
  const uint8_t *tcp = p + ihl;
  uint32_t offset = (uint32_t)(tcp[12] >> 4) * 4;
  uint8_t flags = tcp[13];
  uint32_t payload = total > ihl + offset ? total - ihl - offset : 0;
  c->tcp_segments++;
  c->tcp_payload_bytes += payload;
  if (flags & 0x02) c->syn++;
  if (flags & 0x01) c->fin++;
  if (flags & 0x04) c->rst++;
  if (payload == 0 && (flags & 0x07) == 0 && (flags & 0x10)) c->pure_acks++;
}

static struct slot *tail_slot(struct direction *d) {
  if (d->count == d->capacity) {
    if (d->capacity >= MAX_SLOTS) return NULL;
    uint32_t grown = d->capacity * 2;
    struct slot *ring = malloc((size_t)grown * sizeof *ring);
    if (ring == NULL) return NULL;
    for (uint32_t i = 0; i < d->count; i++) ring[i] = d->ring[(d->head + i) % d->capacity];
    free(d->ring);
    d->ring = ring;
    d->capacity = grown;
    d->head = 0;
  }
  return &d->ring[(d->head + d->count) % d->capacity];
}

static void deliver(struct direction *d, const uint8_t *data, uint32_t length, int32_t traced) {
  if (write(d->out_fd, data, length) == (ssize_t)length) {
    d->c.delivered++;
    if (traced >= 0 && (uint32_t)traced < trace_count) trace_entries[traced].delivered_ns = now_ns();
  } else {
    d->c.write_errors++;
  }
}

static void release(struct direction *d, uint64_t now) {
  while (d->count > 0) {
    struct slot *s = &d->ring[d->head];
    uint64_t at = s->due > cut_until ? s->due : cut_until;
    if (at > now) return;
    deliver(d, s->data, s->length, s->traced);
    d->head = (d->head + 1) % d->capacity;
    d->count--;
  }
}

static uint64_t next_due(const struct direction *d) {
  if (d->count == 0) return UINT64_MAX;
  uint64_t due = d->ring[d->head].due;
  return due > cut_until ? due : cut_until;
}

/* Reads what the device has (up to a batch) and queues or forwards each packet. */
static void take(struct direction *d) {
  for (int i = 0; i < READ_BATCH; i++) {
    struct slot *s = tail_slot(d);
    static struct slot spare;
    struct slot *into = s != NULL ? s : &spare;
    ssize_t n = read(d->in_fd, into->data, SLOT_BYTES);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      die("read");
    }
    uint64_t now = now_ns();
    last_packet_ns = now;
    uint32_t length = (uint32_t)n;
    if (length == 0 || (into->data[0] >> 4) != 4) {
      d->c.not_ipv4++;
      continue;
    }
    count_packet(&d->c, into->data, length);
    int32_t traced = trace_packet(d->name[0] == 'u', into->data, length, now);
    if (s == NULL) {
      d->c.dropped_overflow++;
      continue;
    }
    const struct shape *sh = &d->shape;
    if (sh->loss_ppm > 0 && next_random(&d->random) % 1000000u < sh->loss_ppm) {
      d->c.dropped_loss++;
      continue;
    }
    uint64_t departs = now;
    if (sh->rate_bps > 0) {
      uint64_t backlog = d->busy_until > now ? (uint64_t)((double)(d->busy_until - now) * (double)sh->rate_bps / 8e9) : 0;
      if (sh->queue_bytes > 0 && backlog + length > sh->queue_bytes) {
        d->c.dropped_queue++;
        continue;
      }
      if (backlog + length > d->c.max_backlog_bytes) d->c.max_backlog_bytes = backlog + length;
      uint64_t starts = d->busy_until > now ? d->busy_until : now;
      uint64_t wait = starts - now;
      d->c.queue_wait_ns_sum += wait;
      if (wait > d->c.queue_wait_ns_max) d->c.queue_wait_ns_max = wait;
      departs = starts + (uint64_t)((double)length * 8e9 / (double)sh->rate_bps);
      d->busy_until = departs;
    }
    uint64_t due = departs + sh->delay_ns;
    if (sh->jitter_ns > 0) {
      uint64_t span = 2 * sh->jitter_ns + 1;
      int64_t offset = (int64_t)(next_random(&d->random) % span) - (int64_t)sh->jitter_ns;
      due = offset < 0 && (uint64_t)(-offset) > due - departs ? departs : due + offset;
    }
    /* jitter never reorders: a packet leaves no earlier than the one before it */
    if (due < d->last_due) due = d->last_due;
    d->last_due = due;
    if (due <= now && d->count == 0 && cut_until <= now) {
      deliver(d, into->data, length, traced);
      continue;
    }
    s->traced = traced;
    s->due = due;
    s->length = length;
    d->count++;
  }
}

static void print_counters(FILE *out, const struct direction *d) {
  const struct counters *c = &d->c;
  fprintf(out,
          "\"%s\":{\"packets\":%llu,\"ipBytes\":%llu,\"tcpSegments\":%llu,\"tcpPayloadBytes\":%llu,\"pureAcks\":%llu,\"syn\":%llu,"
          "\"fin\":%llu,\"rst\":%llu,\"delivered\":%llu,\"droppedLoss\":%llu,\"droppedQueue\":%llu,\"droppedOverflow\":%llu,"
          "\"writeErrors\":%llu,\"notIpv4\":%llu,\"queueWaitUsSum\":%.3f,\"queueWaitUsMax\":%.3f,\"maxBacklogBytes\":%llu,\"queued\":%u}",
          d->name, (unsigned long long)c->packets, (unsigned long long)c->ip_bytes, (unsigned long long)c->tcp_segments,
          (unsigned long long)c->tcp_payload_bytes, (unsigned long long)c->pure_acks, (unsigned long long)c->syn, (unsigned long long)c->fin,
          (unsigned long long)c->rst, (unsigned long long)c->delivered, (unsigned long long)c->dropped_loss, (unsigned long long)c->dropped_queue,
          (unsigned long long)c->dropped_overflow, (unsigned long long)c->write_errors, (unsigned long long)c->not_ipv4,
          (double)c->queue_wait_ns_sum / 1e3, (double)c->queue_wait_ns_max / 1e3, (unsigned long long)c->max_backlog_bytes, d->count);
}

/* The namespace's TCP counters (/proc/net/snmp, Tcp:) and its device's drops (/proc/net/dev), as JSON. */
static void print_namespace(FILE *out, const char *key, int ns_fd, const char *device) {
  enter_ns(ns_fd);
  char header[1024] = "", values[1024] = "", line[1024];
  FILE *snmp = fopen("/proc/self/net/snmp", "r");
  while (snmp != NULL && fgets(line, sizeof line, snmp) != NULL) {
    if (strncmp(line, "Tcp:", 4) != 0) continue;
    if (header[0] == '\0')
      strcpy(header, line);
    else
      strcpy(values, line);
  }
  if (snmp != NULL) fclose(snmp);
  unsigned long long tx_dropped = 0;
  FILE *dev = fopen("/proc/self/net/dev", "r");
  size_t name_length = strlen(device);
  while (dev != NULL && fgets(line, sizeof line, dev) != NULL) {
    char *p = line;
    while (*p == ' ') p++;
    if (strncmp(p, device, name_length) != 0 || p[name_length] != ':') continue;
    unsigned long long f[16] = {0};
    if (sscanf(p + name_length + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6],
               &f[7], &f[8], &f[9], &f[10], &f[11]) == 12)
      tx_dropped = f[11];
  }
  if (dev != NULL) fclose(dev);
  enter_ns(original_ns);
  fprintf(out, "\"%s\":{\"deviceTxDropped\":%llu,\"tcp\":{", key, tx_dropped);
  char *hs = NULL, *vs = NULL;
  char *h = strtok_r(header + 4, " \n", &hs);
  char *v = strtok_r(values + 4, " \n", &vs);
  int first = 1;
  while (h != NULL && v != NULL) {
    fprintf(out, "%s\"%s\":%s", first ? "" : ",", h, v);
    first = 0;
    h = strtok_r(NULL, " \n", &hs);
    v = strtok_r(NULL, " \n", &vs);
  }
  fprintf(out, "}}");
}

struct side {
  const char *ns, *dev, *addr;
  int ns_fd;
};

static void print_stats(const struct direction *up, const struct direction *down, const struct side *a, const struct side *b) {
  uint64_t now = now_ns();
  printf("{\"type\":\"stats\",");
  print_counters(stdout, up);
  printf(",");
  print_counters(stdout, down);
  printf(",\"idleMs\":%.3f,", last_packet_ns == 0 ? -1.0 : (double)(now - last_packet_ns) / 1e6);
  print_namespace(stdout, "a", a->ns_fd, a->dev);
  printf(",");
  print_namespace(stdout, "b", b->ns_fd, b->dev);
  printf("}\n");
  fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* options                                                                                     */

struct options {
  struct side a, b;
  struct shape up, down;
  uint64_t seed;
  int mtu;
  /* probe */
  const char *kind, *path;
  long count, port;
  uint64_t bytes, ms, packets, drain_ms;
};

static uint64_t number(const char *flag, const char *text) {
  char *end = NULL;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') {
    fprintf(stderr, "wirecost-link: %s takes a whole number, not \"%s\"\n", flag, text);
    exit(2);
  }
  return value;
}

static int shape_option(struct options *o, const char *flag, const char *value) {
  struct shape *targets[2] = {&o->up, &o->down};
  int from = 0, to = 2;
  char plain[64];
  if (strncmp(flag, "--up-", 5) == 0) {
    to = 1;
    snprintf(plain, sizeof plain, "--%s", flag + 5);
    flag = plain;
  } else if (strncmp(flag, "--down-", 7) == 0) {
    from = 1;
    snprintf(plain, sizeof plain, "--%s", flag + 7);
    flag = plain;
  }
  for (int i = from; i < to; i++) {
    struct shape *s = targets[i];
    if (strcmp(flag, "--delay-us") == 0)
      s->delay_ns = number(flag, value) * 1000;
    else if (strcmp(flag, "--jitter-us") == 0)
      s->jitter_ns = number(flag, value) * 1000;
    else if (strcmp(flag, "--rate-bps") == 0)
      s->rate_bps = number(flag, value);
    else if (strcmp(flag, "--queue-bytes") == 0)
      s->queue_bytes = number(flag, value);
    else if (strcmp(flag, "--loss-ppm") == 0) {
      uint64_t ppm = number(flag, value);
      if (ppm > 1000000) fail("--loss-ppm is at most 1000000");
      s->loss_ppm = (uint32_t)ppm;
    } else
      return 0;
  }
  return 1;
}

static void parse(struct options *o, int argc, char **argv, int first) {
  memset(o, 0, sizeof *o);
  o->mtu = 1500;
  o->count = 100;
  o->ms = 500;
  o->bytes = 1 << 20;
  o->drain_ms = 50;
  o->path = "/";
  for (int i = first; i < argc; i += 2) {
    const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL) {
      fprintf(stderr, "wirecost-link: %s needs a value\n", flag);
      exit(2);
    }
    if (strcmp(flag, "--ns-a") == 0)
      o->a.ns = value;
    else if (strcmp(flag, "--ns-b") == 0)
      o->b.ns = value;
    else if (strcmp(flag, "--dev-a") == 0)
      o->a.dev = value;
    else if (strcmp(flag, "--dev-b") == 0)
      o->b.dev = value;
    else if (strcmp(flag, "--addr-a") == 0)
      o->a.addr = value;
    else if (strcmp(flag, "--addr-b") == 0)
      o->b.addr = value;
    else if (strcmp(flag, "--seed") == 0)
      o->seed = number(flag, value);
    else if (strcmp(flag, "--mtu") == 0)
      o->mtu = (int)number(flag, value);
    else if (strcmp(flag, "--owner") == 0)
      (void)number(flag, value); /* only for whoever looks for leftovers: ps shows it */
    else if (strcmp(flag, "--count") == 0)
      o->count = (long)number(flag, value);
    else if (strcmp(flag, "--port") == 0)
      o->port = (long)number(flag, value);
    else if (strcmp(flag, "--bytes") == 0)
      o->bytes = number(flag, value);
    else if (strcmp(flag, "--ms") == 0)
      o->ms = number(flag, value);
    else if (strcmp(flag, "--packets") == 0)
      o->packets = number(flag, value);
    else if (strcmp(flag, "--drain-ms") == 0)
      o->drain_ms = number(flag, value);
    else if (strcmp(flag, "--path") == 0)
      o->path = value;
    else if (strcmp(flag, "--timeout-ms") == 0)
      timeout_ms = number(flag, value);
    else if (!shape_option(o, flag, value)) {
      fprintf(stderr, "wirecost-link: unknown option %s\n", flag);
      exit(2);
    }
  }
  if (o->mtu < 576 || o->mtu > SLOT_BYTES) fail("--mtu must be between 576 and 2048");
}

static int forward(struct options *o) {
  if (o->a.ns == NULL || o->b.ns == NULL || o->a.dev == NULL || o->b.dev == NULL || o->a.addr == NULL || o->b.addr == NULL)
    fail("forward needs --ns-a, --dev-a, --addr-a, --ns-b, --dev-b and --addr-b");
  /* the link is neither the driver's nor the server's: it runs on whichever core is free, whatever
     core the process that started it was pinned to */
  cpu_set_t every;
  CPU_ZERO(&every);
  for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_CONF) && cpu < CPU_SETSIZE; cpu++) CPU_SET((int)cpu, &every);
  sched_setaffinity(0, sizeof every, &every);
  o->a.ns_fd = open_ns(o->a.ns);
  o->b.ns_fd = open_ns(o->b.ns);
  int fd_a = create_tun(o->a.ns_fd, o->a.dev, o->a.addr, o->b.addr, o->mtu);
  int fd_b = create_tun(o->b.ns_fd, o->b.dev, o->b.addr, o->a.addr, o->mtu);

  struct direction up = {.name = "up", .shape = o->up, .in_fd = fd_a, .out_fd = fd_b, .random = o->seed ^ 0x7570ull};
  struct direction down = {.name = "down", .shape = o->down, .in_fd = fd_b, .out_fd = fd_a, .random = o->seed ^ 0x646f776eull};
  struct direction *both[2] = {&up, &down};
  for (int i = 0; i < 2; i++) {
    both[i]->capacity = 1024;
    both[i]->ring = malloc((size_t)both[i]->capacity * sizeof(struct slot));
    if (both[i]->ring == NULL) die("malloc");
  }
  int flags = fcntl(0, F_GETFL);
  fcntl(0, F_SETFL, flags | O_NONBLOCK);
  printf("{\"type\":\"ready\",\"pid\":%d,\"devA\":\"%s\",\"devB\":\"%s\"}\n", (int)getpid(), o->a.dev, o->b.dev);
  fflush(stdout);

  char line[256];
  size_t line_length = 0;
  for (;;) {
    uint64_t now = now_ns();
    release(&up, now);
    release(&down, now);
    uint64_t due = next_due(&up) < next_due(&down) ? next_due(&up) : next_due(&down);
    struct pollfd fds[3] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}, {0, POLLIN, 0}};
    struct timespec timeout, *wait = NULL;
    if (due != UINT64_MAX) {
      uint64_t in = due > now ? due - now : 0;
      timeout.tv_sec = (time_t)(in / 1000000000u);
      timeout.tv_nsec = (long)(in % 1000000000u);
      wait = &timeout;
    }
    int ready = ppoll(fds, 3, wait, NULL);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    if (fds[0].revents & POLLIN) take(&up);
    if (fds[1].revents & POLLIN) take(&down);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      for (;;) {
        ssize_t n = read(0, line + line_length, sizeof line - 1 - line_length);
        if (n == 0) return 0; /* whoever started us is gone */
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          return 0;
        }
        line_length += (size_t)n;
        char *end;
        while ((end = memchr(line, '\n', line_length)) != NULL) {
          *end = '\0';
          if (strcmp(line, "stats") == 0)
            print_stats(&up, &down, &o->a, &o->b);
          else if (strncmp(line, "cut ", 4) == 0)
            cut_until = now_ns() + number("cut", line + 4) * 1000000u;
          else if (strncmp(line, "trace ", 6) == 0) {
            uint64_t limit = number("trace", line + 6);
            if (limit > 1000000) limit = 1000000;
            free(trace_entries);
            trace_entries = calloc(limit > 0 ? limit : 1, sizeof *trace_entries);
            trace_limit = trace_entries == NULL ? 0 : (uint32_t)limit;
            trace_count = 0;
            trace_start = now_ns();
          } else if (strcmp(line, "dump") == 0)
            print_trace();
          else if (strcmp(line, "quit") == 0)
            return 0;
          size_t used = (size_t)(end - line) + 1;
          memmove(line, end + 1, line_length - used);
          line_length -= used;
        }
        if (line_length == sizeof line - 1) line_length = 0; /* a line too long: dropped */
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* probes: one process with a socket in each namespace                                         */

static int socket_in(int ns_fd, int type) {
  enter_ns(ns_fd);
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  enter_ns(original_ns);
  return fd;
}

static struct sockaddr_in address_of(const char *text, long port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, text, &sin.sin_addr) != 1) fail("not an IPv4 address");
  return sin;
}

static int listener(int ns_fd, const char *addr, int type, struct sockaddr_in *bound) {
  int fd = socket_in(ns_fd, type);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sin = address_of(addr, 0);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) die("bind");
  if (type == SOCK_STREAM && listen(fd, 1024) != 0) die("listen");
  socklen_t length = sizeof *bound;
  getsockname(fd, (struct sockaddr *)bound, &length);
  return fd;
}

static void wait_for(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  while (poll(&p, 1, (int)timeout_ms) < 0 && errno == EINTR) {
  }
  if (p.revents == 0) fail("the path carried nothing within --timeout-ms");
}

/* A connection from namespace a to `to`; the time connect() took, in microseconds. */
static int connect_timed(int ns_fd, const struct sockaddr_in *to, double *us) {
  int fd = socket_in(ns_fd, SOCK_STREAM);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  uint64_t started = now_ns();
  if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS) die("connect");
  struct pollfd p = {fd, POLLOUT, 0};
  while (poll(&p, 1, (int)timeout_ms) < 0 && errno == EINTR) {
  }
  int error = 0;
  socklen_t length = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (p.revents == 0 || error != 0) {
    printf("{\"kind\":\"connect\",\"error\":\"%s\"}\n", p.revents == 0 ? "timeout" : strerror(error));
    exit(3);
  }
  *us = (double)(now_ns() - started) / 1e3;
  fcntl(fd, F_SETFL, 0);
  return fd;
}

static int compare(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static void print_samples(const char *kind, double *us, long n) {
  qsort(us, (size_t)n, sizeof *us, compare);
  printf("{\"kind\":\"%s\",\"samples\":%ld,\"minUs\":%.3f,\"medianUs\":%.3f,\"p90Us\":%.3f,\"maxUs\":%.3f}\n", kind, n, us[0], us[n / 2],
         us[(n * 9) / 10], us[n - 1]);
}

static void read_fully(int fd, char *buffer, size_t length) {
  size_t got = 0;
  while (got < length) {
    ssize_t n = read(fd, buffer + got, length - got);
    if (n <= 0) die("read");
    got += (size_t)n;
  }
}

static int probe(struct options *o) {
  if (o->kind == NULL || o->a.ns == NULL || o->b.ns == NULL || o->b.addr == NULL) fail("probe needs a kind, --ns-a, --ns-b and --addr-b");
  if (o->count < 1 || o->count > 100000) fail("--count must be between 1 and 100000");
  o->a.ns_fd = open_ns(o->a.ns);
  o->b.ns_fd = open_ns(o->b.ns);
  double *us = calloc((size_t)o->count, sizeof *us);
  if (us == NULL) die("calloc");
  struct sockaddr_in to;
  if (strcmp(o->kind, "http") == 0) {
    /* a GET on a new connection, to a server of the suite's in namespace b */
    to = address_of(o->b.addr, o->port);
    double *connect_us = calloc((size_t)o->count, sizeof *us);
    char request[512], buffer[65536];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%ld\r\nConnection: close\r\n\r\n", o->path, o->b.addr, o->port);
    for (long i = 0; i < o->count; i++) {
      uint64_t started = now_ns();
      int fd = connect_timed(o->a.ns_fd, &to, &connect_us[i]);
      if (write(fd, request, (size_t)length) != length) die("write");
      wait_for(fd, POLLIN);
      if (read(fd, buffer, sizeof buffer) <= 0) die("read");
      us[i] = (double)(now_ns() - started) / 1e3;
      close(fd);
    }
    qsort(connect_us, (size_t)o->count, sizeof *us, compare);
    printf("{\"kind\":\"http\",\"connectMedianUs\":%.3f,\"responseMedianUs\":", connect_us[o->count / 2]);
    qsort(us, (size_t)o->count, sizeof *us, compare);
    printf("%.3f,\"samples\":%ld}\n", us[o->count / 2], o->count);
    return 0;
  }
  int type = strcmp(o->kind, "flood") == 0 ? SOCK_DGRAM : SOCK_STREAM;
  int server = listener(o->b.ns_fd, o->b.addr, type, &to);
  if (strcmp(o->kind, "connect") == 0) {
    for (long i = 0; i < o->count; i++) {
      int fd = connect_timed(o->a.ns_fd, &to, &us[i]);
      int accepted = accept(server, NULL, NULL);
      close(fd);
      if (accepted >= 0) close(accepted);
    }
    print_samples("connect", us, o->count);
  } else if (strcmp(o->kind, "rtt") == 0) {
    double connect_us;
    int client = connect_timed(o->a.ns_fd, &to, &connect_us);
    int peer = accept(server, NULL, NULL);
    if (peer < 0) die("accept");
    int one = 1;
    setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char byte = 'x';
    for (long i = -10; i < o->count; i++) { /* ten round trips to warm up */
      uint64_t started = now_ns();
      if (write(client, &byte, 1) != 1) die("write");
      read_fully(peer, &byte, 1);
      if (write(peer, &byte, 1) != 1) die("write");
      read_fully(client, &byte, 1);
      if (i >= 0) us[i] = (double)(now_ns() - started) / 1e3;
    }
    print_samples("rtt", us, o->count);
  } else if (strcmp(o->kind, "bulk") == 0) {
    uint64_t started = now_ns();
    double connect_us;
    int client = connect_timed(o->a.ns_fd, &to, &connect_us);
    int peer = accept(server, NULL, NULL);
    if (peer < 0) die("accept");
    fcntl(peer, F_SETFL, O_NONBLOCK);
    static char buffer[1 << 16];
    uint64_t sent = 0, received = 0, first_byte_ns = 0;
    while (received < o->bytes) {
      struct pollfd p[2] = {{client, POLLIN, 0}, {peer, sent < o->bytes ? POLLOUT : 0, 0}};
      if (poll(p, 2, (int)timeout_ms) <= 0) fail("the bulk transfer stalled for --timeout-ms");
      if (p[1].revents & POLLOUT) {
        size_t want = o->bytes - sent < sizeof buffer ? (size_t)(o->bytes - sent) : sizeof buffer;
        ssize_t n = write(peer, buffer, want);
        if (n > 0) sent += (uint64_t)n;
      }
      if (p[0].revents & POLLIN) {
        ssize_t n = read(client, buffer, sizeof buffer);
        if (n <= 0) die("read");
        if (first_byte_ns == 0) first_byte_ns = now_ns();
        received += (uint64_t)n;
      }
    }
    uint64_t ended = now_ns();
    printf("{\"kind\":\"bulk\",\"bytes\":%llu,\"connectUs\":%.3f,\"totalUs\":%.3f,\"firstByteToLastUs\":%.3f}\n", (unsigned long long)received,
           connect_us, (double)(ended - started) / 1e3, (double)(ended - first_byte_ns) / 1e3);
  } else if (strcmp(o->kind, "flood") == 0) {
    /* 64-byte datagrams numbered in order: --packets of them, or as many as the path takes for
       --ms; what arrives is what the forwarder moved, and any out of order is counted */
    int client = socket_in(o->a.ns_fd, SOCK_DGRAM);
    fcntl(client, F_SETFL, O_NONBLOCK);
    fcntl(server, F_SETFL, O_NONBLOCK);
    int size = 4 << 20;
    setsockopt(server, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(client, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    char datagram[64] = {0}, buffer[2048];
    uint64_t sent = 0, received = 0, reordered = 0, started = now_ns(), ends = started + o->ms * 1000000u;
    uint32_t highest = 0;
    int any = 0;
#define RECEIVE_ALL()                                                 \
  while (read(server, buffer, sizeof buffer) >= 4) {                  \
    uint32_t seq;                                                     \
    memcpy(&seq, buffer, sizeof seq);                                 \
    if (any && seq < highest) reordered++;                            \
    if (!any || seq > highest) highest = seq;                         \
    any = 1;                                                          \
    received++;                                                       \
  }
    while (o->packets > 0 ? sent < o->packets : now_ns() < ends) {
      for (int i = 0; i < 32 && (o->packets == 0 || sent < o->packets); i++) {
        uint32_t seq = (uint32_t)sent;
        memcpy(datagram, &seq, sizeof seq);
        if (sendto(client, datagram, sizeof datagram, 0, (struct sockaddr *)&to, sizeof to) > 0)
          sent++;
        else
          break;
      }
      RECEIVE_ALL();
    }
    double seconds = (double)(now_ns() - started) / 1e9;
    /* what is still on its way: until nothing has come for --drain-ms */
    uint64_t quiet_since = now_ns();
    while (now_ns() - quiet_since < o->drain_ms * 1000000u) {
      uint64_t before = received;
      RECEIVE_ALL();
      if (received != before) quiet_since = now_ns();
      usleep(1000);
    }
    printf("{\"kind\":\"flood\",\"sent\":%llu,\"received\":%llu,\"reordered\":%llu,\"seconds\":%.6f,\"packetsPerSecond\":%.1f}\n",
           (unsigned long long)sent, (unsigned long long)received, (unsigned long long)reordered, seconds, (double)received / seconds);
  } else {
    fail("probe kinds: rtt, connect, bulk, flood, http");
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) fail("usage: wirecost-link forward|probe ... (see bench/link/forwarder.c)");
  signal(SIGPIPE, SIG_IGN);
  /* the forwarder goes when whoever started it goes, even if it could not say so */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  /* wake-ups as close to a packet's due time as the kernel allows */
  prctl(PR_SET_TIMERSLACK, 1UL);
  original_ns = open_ns("/proc/self/ns/net");
  struct options o;
  if (strcmp(argv[1], "forward") == 0) {
    parse(&o, argc, argv, 2);
    return forward(&o);
  }
  if (strcmp(argv[1], "probe") == 0 && argc >= 3) {
    parse(&o, argc, argv, 3);
    o.kind = argv[2];
    return probe(&o);
  }
  fail("usage: wirecost-link forward|probe ... (see bench/link/forwarder.c)");
  return 2;
}

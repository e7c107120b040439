/* The machine's floor for issue 4's drain: the file-system work of draining one message from
 * qmail's queue into a Maildir, with the same durability steps as ours (spec/queue.md 6), done in C
 * by THREADS threads with nothing else: no pipes, no scheduling, no parsing. Its messages per
 * second bound what any implementation can do here; its CPU per message is the kernel's share of
 * ours. Built and run by bench/floor.ts.
 *
 * Per message (qmail's queue, split SPLIT, each split directory TOPDIR as qmail-setup makes it,
 * ten users):
 *   todo-proc   read todo/N/ID; create info/N/ID and local/N/ID (write, fsync); fsync info/N and
 *               local/N; unlink todo/N/ID; fsync todo/N
 *   delivery    read mess/N/ID; create Maildir/tmp/X (write 2500 bytes, fsync); link to new/;
 *               unlink tmp/X; fsync new/
 *   markdone    one byte into local/N/ID, no fsync (as qmail)
 *   messdone    unlink info/N/ID, fsync info/N; unlink mess, intd and local; fsync mess/N
 * With DIRSYNC 0 the directory fsyncs are left out: the work of a batch that shares each of them
 * among many messages, in the limit. With POOL 1, info and local are not created and unlinked but
 * taken from and given back to a pool of files made before the clock starts (rename; their fsync is
 * then of an existing inode, which costs far less here): a lifecycle with fewer new inodes.
 *
 * Usage: floor QUEUE HOMES MESSAGES THREADS DIRSYNC POOL   (QUEUE and HOMES must not exist)
 * Output: one line: "MSGS THREADS DIRSYNC MSG_PER_S CPU_MS_PER_MSG". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { SPLIT = 23, USERS = 10, MSGBYTES = 2500 };
static int messages, dirsync, pool;
static const char *queue, *homes;
static char body[MSGBYTES];
static int next;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void die(const char *what, const char *path) { fprintf(stderr, "floor: %s %s: %s\n", what, path, strerror(errno)); exit(111); }
static void mk(const char *p) { if (mkdir(p, 0700) != 0) die("mkdir", p); }
static void put(const char *p, const char *b, size_t n, int sync) {
  int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0600);
  if (fd < 0) die("open", p);
  if (write(fd, b, n) != (ssize_t)n) die("write", p);
  if (sync && fsync(fd) != 0) die("fsync", p);
  close(fd);
}
static void slurp(const char *p) {
  char buf[4096];
  int fd = open(p, O_RDONLY);
  if (fd < 0) die("open", p);
  while (read(fd, buf, sizeof buf) > 0) {}
  close(fd);
}
static void syncdir(const char *p) {
  if (!dirsync) return;
  int fd = open(p, O_RDONLY | O_DIRECTORY);
  if (fd < 0 || fsync(fd) != 0) die("fsync", p);
  close(fd);
}
/* TOPDIR, as qmail-setup sets it on each split directory (impl/setup/spread.ts); best effort. */
static void topdir(const char *p) {
  int fd = open(p, O_RDONLY | O_DIRECTORY), flags;
  if (fd < 0) return;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) { flags |= FS_TOPDIR_FL; ioctl(fd, FS_IOC_SETFLAGS, &flags); }
  close(fd);
}
static void gone(const char *p) { if (unlink(p) != 0) die("unlink", p); }

/* A queue file with its bytes, fsynced: created, or with POOL a pooled file renamed into place. */
static void make(const char *path, char kind, int i, const char *b, size_t n) {
  if (!pool) { put(path, b, n, 1); return; }
  char pp[512];
  snprintf(pp, sizeof pp, "%s/pool/%c%d", queue, kind, i);
  /* Overwritten in place and cut to length inside its first block: a recycled file keeps its
   * block, as it would in steady state (it was used before). */
  int fd = open(pp, O_WRONLY);
  if (fd < 0) die("open", pp);
  if (pwrite(fd, b, n, 0) != (ssize_t)n || ftruncate(fd, (off_t)n) != 0) die("write", pp);
  if (fsync(fd) != 0) die("fsync", pp);
  close(fd);
  if (rename(pp, path) != 0) die("rename", path);
}
/* A queue file gone: unlinked, or with POOL renamed back into the pool. */
static void release(const char *path, char kind, int i) {
  if (!pool) { gone(path); return; }
  char pp[512];
  snprintf(pp, sizeof pp, "%s/pool/%c%d", queue, kind, i);
  if (rename(path, pp) != 0) die("rename", pp);
}

static void *drain(void *arg) {
  char p[512], q[512], d[512];
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&mu);
    int i = next++;
    pthread_mutex_unlock(&mu);
    if (i >= messages) return 0;
    int s = i % SPLIT, u = i % USERS;
    snprintf(p, sizeof p, "%s/todo/%d/%d", queue, s, i); slurp(p);
    snprintf(q, sizeof q, "%s/info/%d/%d", queue, s, i); make(q, 'i', i, "Fbench@example\0", 15);
    snprintf(q, sizeof q, "%s/local/%d/%d", queue, s, i); make(q, 'l', i, "Tbench1@example\0", 16);
    snprintf(d, sizeof d, "%s/info/%d", queue, s); syncdir(d);
    snprintf(d, sizeof d, "%s/local/%d", queue, s); syncdir(d);
    gone(p);
    snprintf(d, sizeof d, "%s/todo/%d", queue, s); syncdir(d);
    snprintf(p, sizeof p, "%s/mess/%d/%d", queue, s, i); slurp(p);
    snprintf(p, sizeof p, "%s/u%d/Maildir/tmp/%d", homes, u, i);
    snprintf(q, sizeof q, "%s/u%d/Maildir/new/%d", homes, u, i);
    put(p, body, sizeof body, 1);
    if (link(p, q) != 0) die("link", q);
    gone(p);
    snprintf(d, sizeof d, "%s/u%d/Maildir/new", homes, u); syncdir(d);
    snprintf(p, sizeof p, "%s/local/%d/%d", queue, s, i);
    int fd = open(p, O_WRONLY);
    if (fd < 0 || pwrite(fd, "D", 1, 0) != 1) die("markdone", p);
    close(fd);
    snprintf(p, sizeof p, "%s/info/%d/%d", queue, s, i); release(p, 'i', i);
    snprintf(d, sizeof d, "%s/info/%d", queue, s); syncdir(d);
    snprintf(p, sizeof p, "%s/mess/%d/%d", queue, s, i); gone(p);
    snprintf(p, sizeof p, "%s/intd/%d/%d", queue, s, i); gone(p);
    snprintf(p, sizeof p, "%s/local/%d/%d", queue, s, i); release(p, 'l', i);
    snprintf(d, sizeof d, "%s/mess/%d", queue, s); syncdir(d);
  }
}

static double cpu(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: floor QUEUE HOMES MESSAGES THREADS DIRSYNC POOL\n"); return 100; }
  queue = argv[1]; homes = argv[2]; messages = atoi(argv[3]);
  int threads = atoi(argv[4]);
  dirsync = atoi(argv[5]);
  pool = atoi(argv[6]);
  if (messages <= 0 || threads <= 0 || threads > 256) { fprintf(stderr, "floor: bad MESSAGES or THREADS\n"); return 100; }
  memset(body, 'x', sizeof body);
  char p[512], q[512];
  mk(queue); mk(homes);
  const char *kinds[] = {"mess", "intd", "todo", "info", "local"};
  for (int k = 0; k < 5; k++) {
    snprintf(p, sizeof p, "%s/%s", queue, kinds[k]); mk(p); topdir(p);
    for (int s = 0; s < SPLIT; s++) { snprintf(q, sizeof q, "%s/%d", p, s); mk(q); }
  }
  if (pool) {
    snprintf(p, sizeof p, "%s/pool", queue); mk(p);
    for (int i = 0; i < messages; i++) {
      snprintf(p, sizeof p, "%s/pool/i%d", queue, i); put(p, body, 64, 1);
      snprintf(p, sizeof p, "%s/pool/l%d", queue, i); put(p, body, 64, 1);
    }
  }
  for (int u = 0; u < USERS; u++) {
    const char *sub[] = {"", "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"};
    for (int k = 0; k < 5; k++) { snprintf(p, sizeof p, "%s/u%d%s", homes, u, sub[k]); mk(p); }
  }
  for (int i = 0; i < messages; i++) {
    int s = i % SPLIT;
    snprintf(p, sizeof p, "%s/mess/%d/%d", queue, s, i); put(p, body, sizeof body, 0);
    snprintf(q, sizeof q, "%s/intd/%d/%d", queue, s, i); put(q, "u0\0p0\0Fbench@example\0Tbench1@example\0", 36, 0);
    snprintf(q, sizeof q, "%s/todo/%d/%d", queue, s, i);
    if (link(p, q) != 0) die("link", q);
  }
  sync();
  double c0 = cpu(), t0 = now();
  pthread_t th[256];
  for (int i = 0; i < threads; i++) pthread_create(&th[i], 0, drain, 0);
  for (int i = 0; i < threads; i++) pthread_join(th[i], 0);
  double dt = now() - t0, dc = cpu() - c0;
  printf("%d %d %d %.0f %.3f\n", messages, threads, dirsync, messages / dt, dc / messages * 1000);
  return 0;
}

/*
 * qmail-queue setuid helper (docs/setuid.md).
 *
 * Installed as <home>/bin/qmail-queue, owner qmailq, mode 04711. A Node script cannot be setuid,
 * so this program carries the privilege: the kernel starts it with effective uid qmailq and the
 * caller's real uid, and it execs NODE <home>/libexec/qmail-queue with nothing from the caller but
 * its fds (0 = message, 1 = envelope, 2 = errors) and argv[0]. The real uid survives the exec, so
 * the Received line and the intd u record carry the kernel's word for who queued the message.
 *
 * Compiled by qmail-setup:  cc -O2 -Wall -Werror -DQMAILHOME='"<home>"' -DNODE='"<node>"'
 *
 * Rules kept here, each for a reason:
 *  - No library call that consults the environment (getenv, setlocale, ...): the caller owns it.
 *    environ is emptied first, and the child gets its own two-entry environment.
 *  - No chdir, no path built from input: every path is compiled in.
 *  - argc must be sane (argv[0] present, no flood of arguments); qmail-queue takes no arguments,
 *    so extra ones are dropped, never passed on.
 *  - fds pass through untouched; glibc already opens /dev/null on a closed 0/1/2 for a setuid start.
 *  - Exit 120 if the exec fails: qmail-queue clients report "Zqq unable to exec qq".
 */

#include <string.h>
#include <unistd.h>

#ifndef QMAILHOME
#error "QMAILHOME must be defined as a string literal"
#endif
#ifndef NODE
#error "NODE must be defined as a string literal"
#endif

#define ARGC_MAX 64 /* far more than any client passes; more is an attack or a bug */
#define EXIT_EXEC 120

extern char **environ;

static void fail(const char *why)
{
  static const char prefix[] = "qmail-queue: fatal: ";
  (void) !write(2, prefix, sizeof prefix - 1);
  (void) !write(2, why, strlen(why));
  (void) !write(2, "\n", 1);
  _exit(EXIT_EXEC);
}

int main(int argc, char **argv)
{
  static char *empty[] = { 0 };
  static char *env[] = { "QMAILHOME=" QMAILHOME, 0 };
  char *args[3];

  environ = empty;
  if (argc < 1 || argc > ARGC_MAX || !argv || !argv[0]) fail("refusing an unusual argument vector");
  args[0] = argv[0];
  args[1] = QMAILHOME "/libexec/qmail-queue";
  args[2] = 0;
  execve(NODE, args, env);
  fail("unable to exec " NODE);
  return EXIT_EXEC;
}

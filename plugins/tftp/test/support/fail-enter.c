/*
 * Fault injection for native-uring.test.ts (LD_PRELOAD): the FAIL_ENTER-th io_uring_enter of the
 * process (1-based) fails with EFAULT. By default the kernel takes nothing of that call; with
 * SUBMIT_FIRST=1 it takes the entries first (a failure after the submission). The transport calls
 * io_uring_enter through glibc's syscall(), which this wraps; everything else passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>

static int calls;

long syscall(long n, ...) {
  va_list ap;
  va_start(ap, n);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  static long (*real)(long, ...);
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  if (n == __NR_io_uring_enter) {
    const char *f = getenv("FAIL_ENTER");
    if (f && ++calls == atoi(f)) {
      if (getenv("SUBMIT_FIRST")) real(n, a[0], a[1], 0L, 0L, 0L, 0L);
      errno = EFAULT;
      return -1;
    }
  }
  return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

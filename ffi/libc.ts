/**
 * The one `Deno.dlopen` of libc in berth, its symbol table, and errno.
 *
 * Everything else in `ffi/` wraps these symbols in typed functions that throw
 * {@linkcode SyscallError}. Nothing outside `ffi/` may call `Deno.dlopen`.
 *
 * @module
 */
import { SyscallError } from "../lib/errors.ts";

const SYMBOLS = {
  /** int *__errno_location(void): read right after a synchronous call. */
  __errno_location: { parameters: [], result: "pointer" },
  /** char *strerror(int) */
  strerror: { parameters: ["i32"], result: "pointer" },
  /** syscall(2) with integer arguments only (close_range = 436, capset = 126, ...). */
  syscall_i64: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  /** syscall(2) with a pointer in the second and third argument (capget/capset). */
  syscall_ptr2: { name: "syscall", parameters: ["i64", "buffer", "buffer"], result: "i64" },
  /** mknod(2); obeys the umask, so callers chmod afterwards. */
  mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  /** lsetxattr(2) */
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  /** lgetxattr(2) */
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  /** llistxattr(2) */
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  /** lchown(2) */
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  /** utimensat(2), used with AT_SYMLINK_NOFOLLOW for symlinks. */
  utimensat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  /** prctl(2) */
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  /** execve(2): argv and envp are NULL-terminated pointer arrays. */
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  /** execvp(3): searches PATH of the calling process. */
  execvp: { parameters: ["buffer", "buffer"], result: "i32" },
  /** setsid(2) */
  setsid: { parameters: [], result: "i32" },
  /** ioctl(2) with a pointer argument. */
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  /** ioctl(2) with an integer argument. */
  ioctl_int: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  /** open(2) */
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  /** close(2) */
  close: { parameters: ["i32"], result: "i32" },
  /** read(2) on a tokio worker thread (errno is not readable afterwards). */
  read_nb: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  /** dup2(2) */
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  /** fcntl(2) with an integer argument. */
  fcntl: { parameters: ["i32", "i32", "i64"], result: "i32" },
  /** setrlimit(2) */
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  /** malloc(3) */
  malloc: { parameters: ["usize"], result: "pointer" },
  /** free(3) */
  free: { parameters: ["pointer"], result: "void" },
  /** mallopt(3) (glibc) */
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  /** getpid(2) */
  getpid: { parameters: [], result: "i32" },
  /** kill(2) */
  kill: { parameters: ["i32", "i32"], result: "i32" },
  /** waitpid(2), blocking a tokio worker thread. */
  waitpid_nb: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** waitpid(2) on the calling thread (use WNOHANG). */
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  /** posix_openpt(3) */
  posix_openpt: { parameters: ["i32"], result: "i32" },
  /** grantpt(3) */
  grantpt: { parameters: ["i32"], result: "i32" },
  /** unlockpt(3) */
  unlockpt: { parameters: ["i32"], result: "i32" },
  /** ptsname_r(3) */
  ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  /** socket(2) */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** bind(2) */
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** send(2) */
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** recv(2) */
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** recv(2) on a tokio worker thread (errno is not readable afterwards). */
  recv_nb: {
    name: "recv",
    parameters: ["i32", "buffer", "usize", "i32"],
    result: "isize",
    nonblocking: true,
  },
  /** connect(2) */
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** sendmsg(2) with a 56-byte struct msghdr. */
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  /** shutdown(2) */
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  /** setsockopt(2) */
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  /** if_nametoindex(3) */
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  /** signal(2): handler NULL is SIG_DFL (resets what Deno ignored before execve). */
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  /** getppid(2) */
  getppid: { parameters: [], result: "i32" },
  /** tcgetattr(3) with a 60-byte struct termios. */
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  /** tcsetattr(3) */
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  /** cfmakeraw(3) */
  cfmakeraw: { parameters: ["buffer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded libc with berth's symbol table. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const LIBC_PATH = Deno.build.os === "linux" ? "libc.so.6" : "libc.dylib";
const bound: Partial<Record<keyof typeof SYMBOLS, unknown>> = {};

/**
 * libc's symbols, each bound on first use: binding the whole table costs ~8 ms
 * at every start, and a container's init needs only a handful of them.
 */
const lazySymbols = new Proxy({} as Libc, {
  get(_target, name) {
    const key = name as keyof typeof SYMBOLS;
    if (!(key in SYMBOLS)) return undefined;
    if (bound[key] === undefined) {
      const one = { [key]: SYMBOLS[key] } as Pick<typeof SYMBOLS, typeof key>;
      bound[key] = Deno.dlopen(LIBC_PATH, one).symbols[key];
    }
    return bound[key];
  },
});

/** libc with berth's symbol table (symbols bind on first use). */
export function libc(): Libc {
  return lazySymbols;
}

/** Numbers of the calls made through {@linkcode sys}, per architecture. */
const SYSCALLS = {
  x86_64: {
    read: 0,
    write: 1,
    close: 3,
    rt_sigprocmask: 14,
    fcntl: 72,
    chdir: 80,
    umask: 95,
    prctl: 157,
    chroot: 161,
    unshare: 272,
    pipe2: 293,
    setns: 308,
    openat: 257,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    sethostname: 170,
    setdomainname: 171,
  },
  aarch64: {
    read: 63,
    write: 64,
    close: 57,
    rt_sigprocmask: 135,
    fcntl: 25,
    chdir: 49,
    umask: 166,
    prctl: 167,
    chroot: 51,
    unshare: 97,
    pipe2: 59,
    setns: 268,
    openat: 56,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    sethostname: 161,
    setdomainname: 162,
  },
} as const;

/** The calls {@linkcode sys} makes. */
export type Sys = keyof typeof SYSCALLS.x86_64;

const SYSCALL_NUMBERS = SYSCALLS[Deno.build.arch];

/**
 * A system call through libc's syscall(3) and its one bound symbol, for
 * calls whose libc wrapper adds nothing: each symbol bound costs a cold
 * process ~0.2-0.7 ms, and a container's init and its launcher are cold
 * every time. -1 and errno on failure, as the wrapper would.
 * @param args integers, or addresses from {@linkcode addressOf}
 */
export function sys(call: Sys, ...args: bigint[]): number {
  const [a = 0n, b = 0n, c = 0n, d = 0n, e = 0n] = args;
  return Number(libc().syscall_i64(BigInt(SYSCALL_NUMBERS[call]), a, b, c, d, e));
}

/** The address of a buffer's first byte, for {@linkcode sys}; keep the buffer alive meanwhile. */
export function addressOf(buf: Uint8Array | Int32Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/** Reads errno; only meaningful right after a failed synchronous call. */
export function errno(): number {
  const ptr = libc().__errno_location();
  if (ptr === null) return 0;
  return new Deno.UnsafePointerView(ptr).getInt32();
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  7: "E2BIG",
  8: "ENOEXEC",
  9: "EBADF",
  10: "ECHILD",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  15: "ENOTBLK",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  25: "ENOTTY",
  26: "ETXTBSY",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  31: "EMLINK",
  32: "EPIPE",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  61: "ENODATA",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
};

/** errno's symbolic name, e.g. `EPERM`. */
export function errnoName(code: number): string {
  return ERRNO_NAMES[code] ?? `E${code}`;
}

/** glibc's text for the errnos that expected failures give (a missing path), without binding strerror. */
const ERRNO_TEXTS: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  13: "Permission denied",
  17: "File exists",
  20: "Not a directory",
  22: "Invalid argument",
};

/** strerror(3) text for an errno. */
export function errnoText(code: number): string {
  const known = ERRNO_TEXTS[code];
  if (known !== undefined) return known;
  const ptr = libc().strerror(code);
  return ptr === null ? `errno ${code}` : new Deno.UnsafePointerView(ptr).getCString();
}

/** Builds a {@linkcode SyscallError} from the current errno. */
export function syscallError(call: string, path?: string, code = errno()): SyscallError {
  return new SyscallError(call, code, errnoName(code), errnoText(code), path);
}

const encoder = new TextEncoder();

/** A NUL-terminated C string buffer. */
export function cstr(value: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(value);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

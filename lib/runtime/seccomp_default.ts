/**
 * Docker's default seccomp profile, carried in the program so a container is
 * confined the same way on every host (nothing is read from the host's
 * /usr/share/containers). The table follows moby's
 * `profiles/seccomp/default.json` (the moby/profiles module, 2025) for
 * x86-64: default ERRNO(EPERM), an allowlist, capability-conditional
 * entries, argument filters on socket/personality/clone, and clone3 answered
 * ENOSYS without CAP_SYS_ADMIN so that libc falls back to the filtered clone.
 * One deliberate difference: `name_to_handle_at` stays behind CAP_SYS_ADMIN,
 * as in Docker 20.10 to 24 (moby 25 moved it to the allowlist).
 *
 * @see https://docs.docker.com/engine/security/seccomp/
 * @module
 */
import { kernelAtLeast } from "./seccomp_profile.ts";
import type { Seccomp, SeccompArg } from "./spec.ts";

/** One entry: the calls it names, its action and when it applies. */
interface Rule {
  /** System call names, space-separated. */
  calls: string;
  /** Answer ERRNO with this value instead of allowing. */
  errno?: number;
  /** Applies only when the container has this capability. */
  withCap?: string;
  /** Applies only when the container lacks this capability. */
  withoutCap?: string;
  /** Applies only on this kernel version or later ("major.minor"). */
  minKernel?: string;
  /** Conditions on the arguments, all of which must hold. */
  args?: readonly SeccompArg[];
}

const EPERM = 1;
const ENOSYS = 38;

/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone(2) may not make namespaces. */
const CLONE_NAMESPACES = 0x7e020000;

/**
 * personality(2) values a container may set: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (query only).
 */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/**
 * socket(2) address families besides those below 12 (AF_UNIX, AF_INET,
 * AF_INET6, AF_NETLINK's neighbours...): DECnet 12, Econet 19, ATM SVC 20,
 * IrDA 23, WANPIPE 25, ISDN 34, CAIF 37, ALG 38 and VSOCK 40 are refused.
 */
const SOCKET_FAMILIES = [
  13,
  14,
  15,
  16,
  17,
  18,
  21,
  22,
  24,
  26,
  27,
  28,
  29,
  30,
  31,
  32,
  33,
  35,
  36,
  39,
  41,
  42,
  43,
  44,
  45,
];

const arg0 = (op: string, value: number): SeccompArg[] => [{ index: 0, value, op }];

/** Allowed for every container (names of other architectures are skipped when compiling). */
const ALLOWED = "accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir " +
  "chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 " +
  "clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range " +
  "connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl " +
  "epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve " +
  "execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate " +
  "fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 " +
  "fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 " +
  "fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait " +
  "futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 " +
  "geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid " +
  "getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 " +
  "getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid " +
  "gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init " +
  "inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents " +
  "io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule " +
  "landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen " +
  "listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat " +
  "lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat " +
  "mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open " +
  "mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap " +
  "mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep newfstatat " +
  "_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc " +
  "pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 " +
  "process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink " +
  "readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages " +
  "removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir " +
  "rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend " +
  "rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr " +
  "sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler " +
  "sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr " +
  "sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop " +
  "semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 " +
  "setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority " +
  "setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 " +
  "setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid " +
  "setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd " +
  "signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 " +
  "statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time " +
  "timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime " +
  "timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime " +
  "timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat " +
  "uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid " +
  "write writev";

/** The profile in Docker's order (the first rule that matches a call decides). */
const RULES: readonly Rule[] = [
  { calls: ALLOWED },
  { calls: "process_vm_readv process_vm_writev ptrace", minKernel: "4.8" },
  { calls: "socket", args: arg0("SCMP_CMP_LT", 12) },
  ...SOCKET_FAMILIES.map((f) => ({ calls: "socket", args: arg0("SCMP_CMP_EQ", f) })),
  ...PERSONALITIES.map((p) => ({ calls: "personality", args: arg0("SCMP_CMP_EQ", p) })),
  // x86-64's own; the arm, ppc64le, s390 and riscv entries never apply here.
  { calls: "arch_prctl modify_ldt" },
  { calls: "open_by_handle_at", withCap: "CAP_DAC_READ_SEARCH" },
  {
    calls: "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie " +
      "lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount " +
      "name_to_handle_at open_tree perf_event_open quotactl quotactl_fd setdomainname " +
      "sethostname setns syslog umount umount2 unshare",
    withCap: "CAP_SYS_ADMIN",
  },
  {
    calls: "clone",
    withoutCap: "CAP_SYS_ADMIN",
    args: [{ index: 0, value: CLONE_NAMESPACES, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
  },
  { calls: "clone3", withoutCap: "CAP_SYS_ADMIN", errno: ENOSYS },
  { calls: "reboot", withCap: "CAP_SYS_BOOT" },
  { calls: "chroot", withCap: "CAP_SYS_CHROOT" },
  { calls: "delete_module init_module finit_module", withCap: "CAP_SYS_MODULE" },
  { calls: "acct", withCap: "CAP_SYS_PACCT" },
  {
    calls: "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
    withCap: "CAP_SYS_PTRACE",
  },
  { calls: "iopl ioperm", withCap: "CAP_SYS_RAWIO" },
  { calls: "settimeofday stime clock_settime clock_settime64", withCap: "CAP_SYS_TIME" },
  { calls: "vhangup", withCap: "CAP_SYS_TTY_CONFIG" },
  {
    calls: "get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
    withCap: "CAP_SYS_NICE",
  },
  { calls: "syslog", withCap: "CAP_SYSLOG" },
  { calls: "bpf", withCap: "CAP_BPF" },
  { calls: "perf_event_open", withCap: "CAP_PERFMON" },
];

/**
 * Docker's default profile resolved for a container, as dockerd does it:
 * the entries whose capability and kernel conditions hold.
 * @param caps the container's bounding capabilities (`CAP_...` or bare names)
 * @param kernel the running kernel's release @default Deno.osRelease()
 * @returns `linux.seccomp` for the container's config.json
 */
export function dockerDefaultSeccomp(
  caps: readonly string[],
  kernel: string = Deno.osRelease(),
): Seccomp {
  const have = new Set(caps.map((c) => (c.startsWith("CAP_") ? c : `CAP_${c}`)));
  const syscalls: NonNullable<Seccomp["syscalls"]> = [];
  for (const r of RULES) {
    if (r.withCap !== undefined && !have.has(r.withCap)) continue;
    if (r.withoutCap !== undefined && have.has(r.withoutCap)) continue;
    if (r.minKernel !== undefined && !kernelAtLeast(r.minKernel, kernel)) continue;
    syscalls.push({
      names: r.calls.split(" "),
      action: r.errno === undefined ? "SCMP_ACT_ALLOW" : "SCMP_ACT_ERRNO",
      ...(r.errno === undefined ? {} : { errnoRet: r.errno }),
      ...(r.args === undefined ? {} : { args: r.args.map((a) => ({ ...a })) }),
    });
  }
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: EPERM,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls,
  };
}

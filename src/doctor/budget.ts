/**
 * The figures the doctor multiplies by N, from measurements on the project machine: the runs
 * and their results are in docs/BENCHMARKS.md, "The doctor's budget"; docs/TUNING.md uses them.
 */

/**
 * User-space memory per server connection, bytes, measured at 15,000 idle connections. The
 * budget takes the costliest transport so that a mix of them fits.
 */
export const USER_BYTES_PER_CONNECTION = 10 * 1024;

/**
 * Kernel memory per TCP socket, bytes (socket, inode, file and epoll entries in the slab
 * caches; bench/doctor/socket-memory.ts measures it). A loopback pair (load generator on the
 * same machine) costs twice this.
 */
export const KERNEL_BYTES_PER_SOCKET = Math.round(4.7 * 1024);

/**
 * tcp_mem pages one connection holds while a message waits in a socket queue (measured with
 * one unread 64-byte message per connection; the kernel charges whole pages).
 * Idle connections hold none; a broadcast makes every subscriber busy at once.
 */
export const TCP_PAGES_PER_BUSY_CONNECTION = 1;

/** RSS of a freshly started `holdfast serve` process, rounded up from the measurement. */
export const WORKER_BASELINE_BYTES = 64 * 1024 * 1024;

/**
 * File descriptors each process keeps for things other than client connections: listening
 * sockets, IPC to the primary, broker connections, logs, libuv internals, and head-room for
 * short HTTP API requests.
 */
export const RESERVE_FDS = 1000;

/**
 * More workers than this per CPU is the wrong fix: each one costs a baseline RSS and a share of
 * the CPU, and the open-files limit is cheaper to raise.
 */
export const MAX_WORKERS_PER_CPU = 8;

/**
 * Listen backlog to aim for: Linux's default somaxconn since 5.4. Node listens with a backlog of
 * 511 unless told otherwise; the kernel silently caps any backlog at somaxconn.
 */
export const RECOMMENDED_BACKLOG = 4096;

/** Node's listen() backlog when none is given. */
export const NODE_DEFAULT_BACKLOG = 511;

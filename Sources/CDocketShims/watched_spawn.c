// A child program that dies with the process that started it, however that process ends.
//
// fork() gives a watcher process: one thread, no Swift runtime, only async-signal-safe calls (the
// parent has many threads, so nothing else is safe after fork). The watcher forks the program and
// holds the read end of a "lifeline" pipe whose write end only the starting process keeps. When
// that process exits, by SIGKILL or otherwise, the kernel closes the write end; the watcher reads
// end of file and stops the program: SIGTERM, SIGTERM again after a second, SIGKILL after three.
// The program has PR_SET_PDEATHSIG = SIGKILL towards the watcher (single-threaded, so the thread
// that forked it lives as long as the watcher does), so killing the watcher kills the program.
// Once the program has exited, the watcher removes the `cleanup` paths (the program's scratch files),
// which the starting process, if it was killed, cannot do.
// The watcher passes SIGTERM, SIGUSR1 and SIGUSR2 on to the program and ends the way the program
// ended (same status, or the same signal). It ignores SIGINT, SIGQUIT and SIGHUP: a terminal sends
// those to the whole process group, the program included, and passing them on would deliver them
// twice (ctorrent takes a second SIGINT as "quit now, without telling the tracker").
#define _GNU_SOURCE
#include "CDocketShims.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const int forwarded_signals[] = { SIGTERM, SIGUSR1, SIGUSR2 };
#define FORWARDED_COUNT (sizeof(forwarded_signals) / sizeof(forwarded_signals[0]))
static volatile sig_atomic_t pending_signals[FORWARDED_COUNT];

static void note_signal(int number) {
    for (unsigned i = 0; i < FORWARDED_COUNT; i++) {
        if (forwarded_signals[i] == number) pending_signals[i] = 1;
    }
}

// Only interrupts ppoll, so a finished program is noticed at once.
static void note_child(int number) { (void)number; }

static void set_handler(int number, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(number, &action, NULL);
}

static int64_t now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void close_from(int lowest) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
#endif
    for (int fd = lowest; fd < 65536; fd++) close(fd);
}

// Ends the watcher the way `status` says the program ended.
static void exit_like(int status) __attribute__((noreturn));
static void exit_like(int status) {
    if (WIFSIGNALED(status)) {
        int number = WTERMSIG(status);
        set_handler(number, SIG_DFL);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, number);
        sigprocmask(SIG_UNBLOCK, &only, NULL);
        kill(getpid(), number);
        _exit(128 + number);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

// Removes `paths` in order (files, then the directory holding them): what only the program used.
static void remove_paths(char *const paths[]) {
    for (int i = 0; paths && paths[i]; i++) {
        if (unlink(paths[i]) != 0 && (errno == EISDIR || errno == EPERM)) rmdir(paths[i]);
    }
}

// The watcher's loop: fd 3 is the lifeline. Never returns.
static void watch(pid_t program, char *const cleanup[]) __attribute__((noreturn));
static void watch(pid_t program, char *const cleanup[]) {
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGCHLD);
    for (unsigned i = 0; i < FORWARDED_COUNT; i++) sigaddset(&blocked, forwarded_signals[i]);
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    set_handler(SIGCHLD, note_child);
    for (unsigned i = 0; i < FORWARDED_COUNT; i++) set_handler(forwarded_signals[i], note_signal);
    set_handler(SIGINT, SIG_IGN);
    set_handler(SIGQUIT, SIG_IGN);
    set_handler(SIGHUP, SIG_IGN);
    sigemptyset(&waiting);

    int lifeline_open = 1;
    int64_t orphaned_at = -1;  // when the lifeline closed
    int terms_sent = 0, killed = 0;
    for (;;) {
        int status;
        pid_t done = waitpid(program, &status, WNOHANG);
        if (done == program) {
            remove_paths(cleanup);
            exit_like(status);
        }
        if (done < 0 && errno != EINTR) _exit(1);
        for (unsigned i = 0; i < FORWARDED_COUNT; i++) {
            if (pending_signals[i]) {
                pending_signals[i] = 0;
                kill(program, forwarded_signals[i]);
            }
        }
        int timeout_ms = -1;
        if (orphaned_at >= 0) {
            int64_t elapsed = now_ms() - orphaned_at;
            if (terms_sent == 0 || (terms_sent == 1 && elapsed >= 1000)) {
                kill(program, SIGTERM);
                terms_sent++;
            }
            if (!killed && elapsed >= 3000) {
                kill(program, SIGKILL);
                killed = 1;
            }
            timeout_ms = killed ? -1 : (int)((terms_sent < 2 ? 1000 : 3000) - elapsed);
            if (timeout_ms < 0) timeout_ms = 0;
        }
        struct pollfd lifeline = { .fd = 3, .events = POLLIN };
        struct timespec limit = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000 };
        int ready = ppoll(&lifeline, lifeline_open ? 1 : 0, timeout_ms < 0 ? NULL : &limit, &waiting);
        if (ready > 0 && lifeline_open && (lifeline.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
            char byte;
            ssize_t count = read(3, &byte, 1);
            if (count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN)) {
                close(3);
                lifeline_open = 0;
                orphaned_at = now_ms();
            }
        }
    }
}

int docket_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

pid_t docket_spawn_watched(const char *path, char *const argv[], char *const envp[],
                           int input_fd, int output_fd, int lifeline_fd, const char *watcher_name,
                           char *const cleanup[]) {
    pid_t watcher = fork();
    if (watcher != 0) return watcher;  // the parent, or -1 and errno

    // The watcher. Block everything while the descriptors and handlers are set up.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int number = 1; number < NSIG; number++) {
        if (number != SIGKILL && number != SIGSTOP) set_handler(number, SIG_DFL);
    }
    int input = fcntl(input_fd, F_DUPFD, 10);
    int output = fcntl(output_fd, F_DUPFD, 10);
    int lifeline = fcntl(lifeline_fd, F_DUPFD, 10);
    if (input < 0 || output < 0 || lifeline < 0) _exit(127);
    // dup2 onto another number clears close-on-exec, so 0-2 reach the program.
    if (dup2(input, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0 || dup2(lifeline, 3) < 0) _exit(127);
    // Everything else goes: other transfers' lifelines (or they would never see end of file),
    // listening sockets, store files.
    close_from(4);
    if (watcher_name) prctl(PR_SET_NAME, (unsigned long)watcher_name, 0, 0, 0);

    pid_t self = getpid();
    pid_t program = fork();
    if (program < 0) _exit(127);
    if (program == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != self) _exit(127);  // the watcher died before the line above
        close(3);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
        _exit(127);
    }
    // The program's output must reach end of file when the program exits, not when the watcher does.
    close(1);
    close(2);
    watch(program, cleanup);
}

#ifndef DOCKET_SHIMS_H
#define DOCKET_SHIMS_H
// Prefixed, non-variadic wrappers for C APIs Swift cannot call directly.
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <curl/curl.h>
#include <microhttpd.h>

// libcurl: curl_easy_setopt / curl_easy_getinfo are variadic.
CURLcode docket_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode docket_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode docket_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode docket_curl_setopt_write(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode docket_curl_setopt_read(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode docket_curl_setopt_header(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode docket_curl_setopt_xferinfo(CURL *handle, int (*fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t));
CURLcode docket_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode docket_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);

// libmicrohttpd: MHD_start_daemon takes its options as varargs.
typedef struct {
    uint16_t port;               // 0 picks a free port
    const char *bind_address;    // IPv4 dotted quad or NULL for any
    unsigned int connection_limit;
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit;  // bounds header and URL sizes
    unsigned int thread_pool_size;   // 0 = thread per connection
    unsigned int per_ip_connection_limit;
    // libmicrohttpd's own messages, formatted, instead of its stderr lines; NULL keeps stderr.
    void (*log)(void *log_ctx, const char *message);
    void *log_ctx;
} docket_mhd_options;

// Called with the raw request URI (path and still-encoded query) before anything else; its result
// becomes the request's *con_cls.
typedef void *(*docket_mhd_uri_callback)(void *cls, const char *uri, struct MHD_Connection *connection);

struct MHD_Daemon *docket_mhd_start(const docket_mhd_options *options,
                                    MHD_AccessHandlerCallback handler, void *handler_cls,
                                    MHD_RequestCompletedCallback completed, void *completed_cls,
                                    docket_mhd_uri_callback uri_callback, void *uri_cls);
// The port the daemon listens on (useful after asking for port 0).
uint16_t docket_mhd_bound_port(struct MHD_Daemon *daemon);
// Socket of a connection, to read its local and peer address; -1 when unknown.
int docket_mhd_connection_fd(struct MHD_Connection *connection);
// Per-connection timeout override in seconds.
void docket_mhd_set_connection_timeout(struct MHD_Connection *connection, unsigned int seconds);

// epoll and eventfd: Swift's Glibc module leaves out <sys/epoll.h> and <sys/eventfd.h>, and
// `struct epoll_event` is packed on x86-64. Registrations carry the descriptor as their token.
// A new epoll instance (close-on-exec); -1 and errno on failure.
int docket_epoll_create(void);
// EPOLL_CTL_ADD (1), EPOLL_CTL_DEL (2), EPOLL_CTL_MOD (3) of `fd` with the `events` mask.
int docket_epoll_ctl(int epfd, int op, int fd, uint32_t events);
// Waits; fills `fds` and `events` (each `max_events` long) and returns how many are ready.
int docket_epoll_wait(int epfd, int32_t *fds, uint32_t *events, int max_events, int timeout_ms);
// A non-blocking, close-on-exec eventfd.
int docket_eventfd(unsigned int initial);

// Starts writing the dirty pages of `fd` in [offset, offset+count) to disk without waiting for it
// (sync_file_range with SYNC_FILE_RANGE_WRITE, which needs _GNU_SOURCE); 0 or -1 and errno.
int docket_start_writeback(int fd, int64_t offset, int64_t count);

// open(2) with O_NOATIME added when the caller may use it (it owns the file), plain otherwise:
// reads then never update the access time, which on a journalling file system can wait for a
// journal commit. `mode` applies with O_CREAT.
int docket_open_noatime(const char *path, int flags, unsigned int mode);

// pipe2(fds, O_CLOEXEC), which needs _GNU_SOURCE; 0 or -1 and errno.
int docket_pipe_cloexec(int fds[2]);
// Starts `path` (argv, envp) under a watcher process and returns the watcher's pid, or -1 and errno
// (watched_spawn.c). The program gets `input_fd` as standard input and `output_fd` as standard output
// and error, nothing else. The watcher holds the read end `lifeline_fd` of a pipe whose write end
// the caller keeps (close-on-exec) and closes only when done: when the caller's process dies the
// watcher stops the program (SIGTERM, again after 1 s, SIGKILL after 3 s). SIGTERM, SIGUSR1 and
// SIGUSR2 sent to the watcher reach the program, SIGKILL kills both; the watcher ignores the
// terminal's SIGINT, SIGQUIT and SIGHUP (the program gets those itself) and exits the way the
// program did (status 127 when it could not start), after removing the `cleanup` paths (NULL-ended,
// or NULL: files first, then their directory), which a killed caller could not remove.
pid_t docket_spawn_watched(const char *path, char *const argv[], char *const envp[],
                           int input_fd, int output_fd, int lifeline_fd, const char *watcher_name,
                           char *const cleanup[]);

#endif

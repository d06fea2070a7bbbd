#define _GNU_SOURCE
#include "CDocketShims.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

CURLcode docket_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
CURLcode docket_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
CURLcode docket_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
CURLcode docket_curl_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
}
CURLcode docket_curl_setopt_read(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_READFUNCTION, fn);
}
CURLcode docket_curl_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
}
CURLcode docket_curl_setopt_xferinfo(CURL *h, int (*fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fn);
}
CURLcode docket_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
CURLcode docket_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }

// One log function serves every daemon (each passes its own context); errno survives it, since
// a failed start reports its reason through errno.
static void (*docket_mhd_log_fn)(void *, const char *);

static void docket_mhd_log(void *cls, const char *format, va_list arguments) {
    int saved = errno;
    char message[512];
    vsnprintf(message, sizeof message, format, arguments);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r')) message[--length] = 0;
    if (docket_mhd_log_fn) docket_mhd_log_fn(cls, message);
    errno = saved;
}

struct MHD_Daemon *docket_mhd_start(const docket_mhd_options *o,
                                    MHD_AccessHandlerCallback handler, void *handler_cls,
                                    MHD_RequestCompletedCallback completed, void *completed_cls,
                                    docket_mhd_uri_callback uri_callback, void *uri_cls) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(o->port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (o->bind_address && inet_pton(AF_INET, o->bind_address, &addr.sin_addr) != 1) return NULL;
    if (o->log) docket_mhd_log_fn = o->log;
    // MHD_USE_ITC lets MHD_quiesce_daemon stop accepting safely during a graceful stop.
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    if (o->thread_pool_size == 0) flags |= MHD_USE_THREAD_PER_CONNECTION;
    else flags |= MHD_USE_EPOLL;
    // No MHD_OPTION_LISTENING_ADDRESS_REUSE: with SO_REUSEPORT a second registry on the same port
    // would silently take half the connections. libmicrohttpd's default SO_REUSEADDR is enough.
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_cls},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_callback, uri_cls},
        {MHD_OPTION_CONNECTION_LIMIT, o->connection_limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_seconds, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)o->connection_memory_limit, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_connection_limit, NULL},
        {o->log ? MHD_OPTION_EXTERNAL_LOGGER : MHD_OPTION_END, (intptr_t)docket_mhd_log, o->log_ctx},
        // Only with a pool: libmicrohttpd warns about a zero size.
        {o->thread_pool_size ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, o->thread_pool_size, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, o->port, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

uint16_t docket_mhd_bound_port(struct MHD_Daemon *d) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int docket_mhd_connection_fd(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

void docket_mhd_set_connection_timeout(struct MHD_Connection *c, unsigned int seconds) {
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

int docket_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int docket_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = events;
    event.data.fd = fd;
    return epoll_ctl(epfd, op, fd, &event);
}

int docket_epoll_wait(int epfd, int32_t *fds, uint32_t *events, int max_events, int timeout_ms) {
    struct epoll_event ready[256];
    if (max_events > 256) max_events = 256;
    int count = epoll_wait(epfd, ready, max_events, timeout_ms);
    for (int i = 0; i < count; i++) {
        fds[i] = ready[i].data.fd;
        events[i] = ready[i].events;
    }
    return count;
}

int docket_eventfd(unsigned int initial) { return eventfd(initial, EFD_NONBLOCK | EFD_CLOEXEC); }

int docket_open_noatime(const char *path, int flags, unsigned int mode) {
    int fd = open(path, flags | O_NOATIME, mode);
    if (fd < 0 && errno == EPERM) fd = open(path, flags, mode);
    return fd;
}

int docket_start_writeback(int fd, int64_t offset, int64_t count) {
    return sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE);
}

/* A seccomp agent for the tests: takes each notify fd a runtime hands to linux.seccomp.listenerPath
   (SCM_RIGHTS, with the container process state as payload; one connection for create, one per exec) and,
   in a child of its own per fd, lets every notified call go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE) until no
   process uses that filter any more. Runs until killed.
   usage: seccomp-listener SOCKET REPORT — REPORT gets, per fd, the payload, one line per answered call
   ("nr <n>") and "done" when that filter has no process left. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/seccomp.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s SOCKET REPORT\n", argv[0]); return 2; }
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) || listen(server, 1)) { perror("bind"); return 1; }
    signal(SIGCHLD, SIG_IGN);  /* no zombies from the per-fd children */
    int conn;
    for (;;) {
        conn = accept(server, NULL, NULL);
        if (conn < 0) { perror("accept"); return 1; }
        if (fork() == 0) break;
        close(conn);
    }
    close(server);
    char payload[65536];
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { payload, sizeof payload - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t n = recvmsg(conn, &msg, 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (n < 0 || !c || c->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd received\n"); return 1; }
    payload[n] = 0;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    FILE *report = fopen(argv[2], "a");
    fprintf(report, "%s\n", payload);
    fflush(report);
    struct seccomp_notif_sizes sizes;
    if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes)) { perror("seccomp sizes"); return 1; }
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif > sizeof *req ? sizes.seccomp_notif : sizeof *req);
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp > sizeof *resp ? sizes.seccomp_notif_resp : sizeof *resp);
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, -1) < 0) { if (errno == EINTR) continue; break; }
        if (p.revents & POLLIN) {
            memset(req, 0, sizes.seccomp_notif);
            if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req)) { if (errno == EINTR || errno == ENOENT) continue; break; }
            memset(resp, 0, sizes.seccomp_notif_resp);
            resp->id = req->id;
            resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            fprintf(report, "nr %d\n", req->data.nr);
            fflush(report);
            ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);  /* ENOENT: the caller went away meanwhile */
        } else if (p.revents & (POLLHUP | POLLERR)) {
            break;
        }
    }
    fprintf(report, "done\n");
    fclose(report);
    return 0;
}

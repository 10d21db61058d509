/* The --console-socket end for test-criu (what conmon or containerd's shim do): listens on argv[1], takes the pty
 * master from the first connection (SCM_RIGHTS) and copies what the container writes on its terminal to argv[2]
 * until every slave is closed. Built static by run.py for the guest, which has no compiler. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int sk = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[1], sizeof(addr.sun_path) - 1);
    unlink(argv[1]);
    if (sk < 0 || bind(sk, (struct sockaddr *)&addr, sizeof(addr)) || listen(sk, 1)) { perror("listen"); return 1; }
    int conn = accept(sk, NULL, NULL);
    char name[256], control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    if (conn < 0 || recvmsg(conn, &msg, 0) < 0) { perror("recvmsg"); return 1; }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd\n"); return 1; }
    int master;
    memcpy(&master, CMSG_DATA(c), sizeof(int));
    close(conn);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
    char buf[4096];
    ssize_t n;
    while ((n = read(master, buf, sizeof(buf))) > 0) write(out, buf, n);
    return 0;
}

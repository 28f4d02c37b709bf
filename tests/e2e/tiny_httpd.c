/*
 * tests/e2e/tiny_httpd.c - a minimal static file server for e2e_audit_http:
 * the part a web server plays in front of a tiles mirror, with nothing but
 * libc, so the test needs no web server installed.
 *
 *   tiny_httpd DIR PORTFILE
 *
 * Listens on 127.0.0.1 on a port the kernel picks, writes it to PORTFILE,
 * then answers GET /PATH with DIR/PATH (200, or 404; a path with ".." is
 * 404) over HTTP/1.0, one connection at a time, until killed.  A path that
 * starts with /loop/ is a redirect loop: 302 to itself, for ever.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void httpd_reply(int fd, const char *dir, const char *req)
{
        char path[4096], head[256], buf[65536];
        const char *p = req + 4, *end = strchr(p, ' ');
        FILE *f = NULL;
        long size = 0;
        size_t n;

        if (strncmp(req, "GET /loop/", 10) == 0 && end != NULL) {
                snprintf(head, sizeof(head),
                         "HTTP/1.0 302 Found\r\nLocation: %.*s\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n",
                         (int)(end - p) > 200 ? 200 : (int)(end - p), p);
                if (write(fd, head, strlen(head)) < 0)
                        perror("write");
                return;
        }
        if (strncmp(req, "GET /", 5) == 0 && end != NULL &&
            memmem(p, (size_t)(end - p), "..", 2) == NULL &&
            snprintf(path, sizeof(path), "%s%.*s", dir, (int)(end - p), p) <
                (int)sizeof(path) &&
            (f = fopen(path, "rb")) != NULL) {
                if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
                    fseek(f, 0, SEEK_SET) != 0) {
                        fclose(f);
                        f = NULL;
                }
        }
        if (f == NULL) {
                const char *nf = "HTTP/1.0 404 Not Found\r\nContent-Length: "
                                 "0\r\nConnection: close\r\n\r\n";
                if (write(fd, nf, strlen(nf)) < 0)
                        perror("write");
                return;
        }
        snprintf(head, sizeof(head),
                 "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream"
                 "\r\nContent-Length: %ld\r\nConnection: close\r\n\r\n",
                 size);
        if (write(fd, head, strlen(head)) < 0)
                perror("write");
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                if (write(fd, buf, n) != (ssize_t)n)
                        break;
        fclose(f);
}

int main(int argc, char **argv)
{
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        FILE *pf;
        int s, one = 1;

        if (argc != 3) {
                fprintf(stderr, "usage: tiny_httpd DIR PORTFILE\n");
                return 2;
        }
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
            bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
            listen(s, 16) != 0 ||
            getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
                perror("tiny_httpd");
                return 1;
        }
        if ((pf = fopen(argv[2], "w")) == NULL ||
            fprintf(pf, "%u\n", ntohs(a.sin_port)) < 0 || fclose(pf) != 0) {
                perror(argv[2]);
                return 1;
        }
        for (;;) {
                char req[8192];
                ssize_t n;
                int c = accept(s, NULL, NULL);
                if (c < 0)
                        continue;
                n = read(c, req, sizeof(req) - 1);
                if (n > 0) {
                        req[n] = 0;
                        httpd_reply(c, argv[1], req);
                }
                close(c);
        }
}

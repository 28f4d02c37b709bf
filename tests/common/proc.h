/*
 * tests/common/proc.h - what the C test tools that drive the real programs
 * (tests/e2e/systemd.c, tests/bench/bench_daemon.c) share: run a program
 * and wait for it, and remove a scratch directory tree.  Build with
 * _XOPEN_SOURCE=700 (nftw).
 */
#ifndef TB_TEST_PROC_H
#define TB_TEST_PROC_H

#include <ftw.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run argv[0] with argv and wait: its exit status, or -1 (fork, exec or
 * signal: the child exits 127 when exec fails). */
static int proc_run(char *const argv[])
{
        int st;
        pid_t p = fork();

        if (p < 0)
                return -1;
        if (p == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        if (waitpid(p, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int proc_rm_one(const char *path, const struct stat *sb, int flag,
                       struct FTW *ftw)
{
        (void)sb;
        (void)ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove dir and everything below it (symlinks are not followed).
 * 0, or -1 with errno set. */
static int proc_rmtree(const char *dir)
{
        return nftw(dir, proc_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif

/*
 * proto/exit.h - the exit statuses of timebank's programs.  timebankd and
 * timebank share the numbers where they mean the same (success, a usage
 * error); the rest belong to one program.  docs/cli.md and docs/timebankd.md
 * (and the man pages) list them; scripts depend on them, so a number never
 * changes meaning.  Named TB_EXIT_* so they never collide with <sysexits.h>.
 */
#ifndef TB_EXIT_H
#define TB_EXIT_H

enum tb_exit {
        TB_EXIT_OK = 0,          /* both: done (timebank: the request succeeded,
                                  * or was a DUPLICATE of one that had) */
        TB_EXIT_FAIL = 1,        /* timebankd: could not start, or stopped on
                                  * a failure; `check` found a problem */
        TB_EXIT_REFUSED = 1,     /* timebank: the daemon refused the request
                                  * (a ledger rule or a bad request) */
        TB_EXIT_USAGE = 2,       /* both: bad command line, configuration or
                                  * input file; nothing was sent or done */
        TB_EXIT_UNREACHABLE = 3, /* timebank: no daemon answered on the socket,
                                  * or it closed; safe to retry */
        TB_EXIT_OTHER = 4,       /* timebank: a transient refusal (retry later)
                                  * or a local failure after sending */
        TB_EXIT_UNTRUSTED = 5,   /* timebank: the daemon is not the pinned
                                  * ledger (its origin or log key differs
                                  * from the pinned log key), or what it
                                  * sent does not verify with that key;
                                  * nothing was signed for it */
};

#endif

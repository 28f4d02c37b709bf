/*
 * daemon/systemd.h - the two systemd protocols timebankd speaks, without
 * libsystemd: socket activation (LISTEN_FDS/LISTEN_PID, sd_listen_fds(3))
 * and readiness notification (NOTIFY_SOCKET, sd_notify(3)).  Both are
 * no-ops when the variables are absent, so the daemon runs the same by hand.
 */
#ifndef TB_SYSTEMD_H
#define TB_SYSTEMD_H

/*
 * The listening socket systemd passed (fd 3), or -1 when none was passed
 * to this process.  Unsets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES so
 * children do not inherit them.  More than one passed socket is an error
 * (-2): timebankd serves exactly one.
 */
int systemd_listen_fd(void);

/*
 * Send state (e.g. "READY=1", "STOPPING=1", "STATUS=...") to the service
 * manager.  Returns 0 when sent or when there is no NOTIFY_SOCKET, -1 on a
 * send error (errno set).
 */
int systemd_notify(const char *state);

#endif

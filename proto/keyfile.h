/*
 * proto/keyfile.h - key files, the one part of proto/ that does I/O
 * (library tbkeyfile).  docs/keys.md describes the files.
 *
 *   secret key file   the skey encoding and "\n"; mode 0600
 *   public key file   the vkey encoding and "\n"; mode 0644
 *
 * Writing never replaces an existing file (nor follows a symlink there),
 * sets the mode with fchmod() whatever the umask, writes everything,
 * fsyncs the file and its directory, and removes the file again if any of
 * that fails.  Reading accepts exactly one line, with or without its final
 * newline, and no more than the longest encoding; a secret key file must
 * be a regular file with no permission bits for group or others.
 *
 * On TB_E_IO errno describes the failing system call.  The caller must
 * have called sodium_init().
 */
#ifndef TB_KEYFILE_H
#define TB_KEYFILE_H

#include "error.h"
#include "key.h"

#define TB_KEYFILE_SECRET_MODE 0600
#define TB_KEYFILE_PUBLIC_MODE 0644

/*
 * Create path holding k's secret key encoding and a newline, mode 0600.
 * Every copy of the encoding made on the way is wiped.
 *
 * Errors: TB_E_EXISTS (path exists, possibly as a symlink), TB_E_IO,
 *         those of tb_skey_format.
 */
TB_WUR enum tb_err tb_keyfile_write_secret(const char *path,
                                           const struct tb_skey *k);

/*
 * Create path holding k's verifier key encoding and a newline, mode 0644.
 *
 * Errors: TB_E_EXISTS, TB_E_IO, those of tb_vkey_format.
 */
TB_WUR enum tb_err tb_keyfile_write_public(const char *path,
                                           const struct tb_vkey *k);

/*
 * Read a secret key file.  It is opened without following a symlink and
 * must be a regular file whose mode grants nothing to group or others.
 * The read buffer is wiped.  Free *out with tb_skey_free().
 *
 * Errors: TB_E_IO (including a symlink: ELOOP; not a regular file: EINVAL),
 *         TB_E_FILE_MODE, TB_E_KEY_FORMAT (longer than one encoding, or more
 *         than one line), those of tb_skey_parse.
 */
TB_WUR enum tb_err tb_keyfile_read_secret(const char *path,
                                          struct tb_skey **out);

/*
 * Read a public key file (symlinks are followed: public keys may be
 * shared).
 *
 * Errors: TB_E_IO (not a regular file: EINVAL), TB_E_KEY_FORMAT (too long
 *         or more than one line), those of tb_vkey_parse.
 */
TB_WUR enum tb_err tb_keyfile_read_public(const char *path,
                                          struct tb_vkey *out);

#endif

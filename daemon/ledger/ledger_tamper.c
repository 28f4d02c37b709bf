/*
 * daemon/ledger/ledger_tamper.c - edit a stored value from outside the
 * ledger (tests only; see ledger_tamper.h).  A plain LMDB write
 * transaction, with none of the ledger's rules or codecs: that is the point.
 */
#include <lmdb.h>
#include <string.h>

#include "ledger_tamper.h"

#define LEDGER_TAMPER_VAL_MAX 65536

int ledger_tamper_edit(const char *dir, const char *db, const void *key,
                       size_t key_len, ledger_tamper_edit_cb edit_cb, void *arg)
{
        static uint8_t copy[LEDGER_TAMPER_VAL_MAX];
        MDB_env *env = NULL;
        MDB_txn *txn = NULL;
        MDB_cursor *cur = NULL;
        MDB_dbi dbi;
        MDB_val k = {key_len, (void *)key}, v;
        size_t len;
        int rc;

        if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
            (rc = mdb_env_open(env, dir, 0, 0600)) ||
            (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
            (rc = mdb_dbi_open(txn, db, 0, &dbi)))
                goto fail;
        if (key == NULL) {
                if ((rc = mdb_cursor_open(txn, dbi, &cur)))
                        goto fail;
                rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
                mdb_cursor_close(cur);
        } else {
                rc = mdb_get(txn, dbi, &k, &v);
        }
        if (rc)
                goto fail;
        if (v.mv_size > sizeof(copy)) {
                rc = -1;
                goto fail;
        }
        memcpy(copy, v.mv_data, v.mv_size);
        len = v.mv_size;
        if ((rc = edit_cb(copy, &len, sizeof(copy), arg)))
                goto fail;
        v.mv_data = copy;
        v.mv_size = len;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
                goto fail;
        rc = mdb_txn_commit(txn);
        txn = NULL;
fail:
        if (txn != NULL)
                mdb_txn_abort(txn);
        if (env != NULL)
                mdb_env_close(env);
        return rc;
}

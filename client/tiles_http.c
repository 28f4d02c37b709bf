/*
 * client/tiles_http.c - http(s) reads of a tiles mirror (client/tiles_http.h).
 *
 * One easy handle per read keeps it simple and stateless: an audit reads
 * one file per 256 entries, so connection reuse would save little.  The
 * body is collected up to the caller's bound and the transfer aborted
 * beyond it, so a hostile server cannot make us hold more than one tile.
 */
#include "tiles_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiles.h"

#ifdef TB_HAVE_CURL
#include <curl/curl.h>

/* Redirects followed for one file: enough for a CDN's http→https and a
 * move; a loop ends at once instead of at the 120-second timeout. */
#define TILES_HTTP_MAX_REDIRS 5
#endif

int tiles_http_is_url(const char *s)
{
        return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

#ifndef TB_HAVE_CURL

int tiles_http_get(const char *prefix, const char *rel, size_t max,
                   uint8_t **out, size_t *len, char *err)
{
        (void)rel;
        (void)max;
        *out = NULL;
        *len = 0;
        snprintf(err, TILES_ERR_MAX,
                 "%s: this timebank was built without libcurl, so it reads "
                 "a tiles directory but not an http(s) mirror (build with "
                 "the Debian package libcurl4-openssl-dev)",
                 prefix);
        errno = EIO;
        return -1;
}

#else

struct tiles_http_body {
        uint8_t *p;
        size_t n, max;
        int too_large;
};

static size_t tiles_http_write_cb(char *data, size_t size, size_t nmemb,
                                  void *ctx)
{
        struct tiles_http_body *b = ctx;
        size_t n = size * nmemb;
        uint8_t *p;

        if (n > b->max - b->n) {
                b->too_large = 1;
                return 0; /* aborts the transfer */
        }
        if ((p = realloc(b->p, b->n + n + 1)) == NULL)
                return 0;
        memcpy(p + b->n, data, n);
        b->p = p;
        b->n += n;
        return n;
}

static int tiles_http_init(void)
{
        static int done, ok;

        if (!done) {
                done = 1;
                ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK &&
                     atexit(curl_global_cleanup) == 0;
        }
        return ok;
}

int tiles_http_get(const char *prefix, const char *rel, size_t max,
                   uint8_t **out, size_t *len, char *err)
{
        struct tiles_http_body b = {.max = max};
        size_t plen = strlen(prefix);
        char url[4096];
        long code = 0;
        CURLcode rc = CURLE_FAILED_INIT;
        CURL *h;
        /* a mirror named by https is never downgraded to http by a
         * redirect (what it serves is signed, but its privacy is not) */
        const char *redir =
            strncmp(prefix, "https://", 8) == 0 ? "https" : "http,https";

        *out = NULL;
        *len = 0;
        while (plen > 0 && prefix[plen - 1] == '/')
                plen--;
        if (snprintf(url, sizeof(url), "%.*s/%s", (int)plen, prefix, rel) >=
            (int)sizeof(url)) {
                snprintf(err, TILES_ERR_MAX, "%s: URL too long", rel);
                errno = EIO;
                return -1;
        }
        if (tiles_http_init() && (h = curl_easy_init()) != NULL) {
                if (curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") ==
                        CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, redir) ==
                        CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) ==
                        CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_MAXREDIRS,
                                     (long)TILES_HTTP_MAX_REDIRS) == CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") ==
                        CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L) == CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION,
                                     tiles_http_write_cb) == CURLE_OK &&
                    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b) == CURLE_OK)
                        rc = curl_easy_perform(h);
                if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) !=
                    CURLE_OK)
                        code = 0;
                curl_easy_cleanup(h);
        }
        if (rc == CURLE_OK && code == 200) {
                *out = b.p != NULL ? b.p : malloc(1);
                *len = b.n;
                if (*out != NULL)
                        return 0;
        }
        free(b.p);
        if (b.too_large)
                snprintf(err, TILES_ERR_MAX, "%s: larger than %zu bytes", rel,
                         max);
        else if (rc == CURLE_OK)
                snprintf(err, TILES_ERR_MAX, "%s: HTTP status %ld from %.300s",
                         rel, code, url);
        else
                snprintf(err, TILES_ERR_MAX, "%s: cannot fetch %.300s: %s", rel,
                         url, curl_easy_strerror(rc));
        errno = code == 404 ? ENOENT : EIO;
        return -1;
}

#endif

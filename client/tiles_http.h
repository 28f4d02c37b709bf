/*
 * client/tiles_http.h - reading a tlog-tiles mirror over http(s) with
 * libcurl, for `timebank audit --tiles https://...`.  Built only when
 * libcurl is found (client/CMakeLists.txt defines TB_HAVE_CURL); without
 * it a URL is refused with a message naming the package.
 */
#ifndef TB_TILES_HTTP_H
#define TB_TILES_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* 1 if s names an http:// or https:// prefix. */
int tiles_http_is_url(const char *s);

/*
 * GET prefix/rel into *out (malloc'd, the caller frees), at most max
 * bytes; redirects are followed to http(s) only, compressed answers
 * accepted.  Returns 0, or -1 after writing why into err (TILES_ERR_MAX
 * bytes) with errno ENOENT for a 404, EIO otherwise.
 */
int tiles_http_get(const char *prefix, const char *rel, size_t max,
                   uint8_t **out, size_t *len, char *err);

#endif

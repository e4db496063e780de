#ifndef CCURL_H
#define CCURL_H
// libcurl, loaded with dlopen on first use: `--version`, `status`, `query` and a seed boot never
// pay for its 36-library chain (OpenSSL, GnuTLS, Kerberos, LDAP, ...), which the loader would
// otherwise map and relocate before main. curl.h gives the types and constants only; nothing
// here links libcurl. Call ccurl_load first: the others need what it found.
#include <curl/curl.h>

/// Loads libcurl.so.4 and its functions once, and runs curl_global_init; NULL when it worked,
/// else why not (dlerror's text).
const char *ccurl_load(void);

CURLM *ccurl_multi_init(void);
CURLMcode ccurl_multi_cleanup(CURLM *m);
CURLMcode ccurl_multi_add_handle(CURLM *m, CURL *h);
CURLMcode ccurl_multi_remove_handle(CURLM *m, CURL *h);
CURLMcode ccurl_multi_perform(CURLM *m, int *running);
CURLMcode ccurl_multi_poll(CURLM *m, struct curl_waitfd fds[], unsigned int count, int timeout_ms, int *ready);
CURLMcode ccurl_multi_wakeup(CURLM *m);
CURLMsg *ccurl_multi_info_read(CURLM *m, int *left);
CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v);

CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *h);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *text);
void ccurl_slist_free_all(struct curl_slist *list);

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one per argument type.
CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v);
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode ccurl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *));
CURLcode ccurl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *));
long ccurl_response_code(CURL *h);
/// Where a 3xx answer points, resolved against the request URL; NULL when it points nowhere.
const char *ccurl_redirect_url(CURL *h);

#endif

#include "ccurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

// Each libcurl function we call, looked up by its own name into a pointer of its own type.
#define CCURL_FUNCTIONS(X) \
    X(curl_global_init) X(curl_multi_init) X(curl_multi_cleanup) X(curl_multi_add_handle) \
    X(curl_multi_remove_handle) X(curl_multi_perform) X(curl_multi_poll) X(curl_multi_wakeup) \
    X(curl_multi_info_read) X(curl_multi_setopt) X(curl_easy_init) X(curl_easy_cleanup) \
    X(curl_easy_strerror) X(curl_easy_setopt) X(curl_easy_getinfo) X(curl_slist_append) X(curl_slist_free_all)

#define CCURL_POINTER(name) static __typeof__(&name) p_##name;
CCURL_FUNCTIONS(CCURL_POINTER)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure;

static void load(void) {
    // RTLD_LOCAL: its symbols stay out of the global scope, where they could shadow someone's.
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        failure = dlerror();
        return;
    }
#define CCURL_LOOKUP(name) \
    if ((p_##name = (__typeof__(&name))dlsym(library, #name)) == NULL) { failure = "libcurl.so.4 has no " #name; return; }
    CCURL_FUNCTIONS(CCURL_LOOKUP)
    if (p_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) failure = "curl_global_init failed";
}

const char *ccurl_load(void) {
    pthread_once(&once, load);
    return failure;
}

CURLM *ccurl_multi_init(void) { return p_curl_multi_init(); }
CURLMcode ccurl_multi_cleanup(CURLM *m) { return p_curl_multi_cleanup(m); }
CURLMcode ccurl_multi_add_handle(CURLM *m, CURL *h) { return p_curl_multi_add_handle(m, h); }
CURLMcode ccurl_multi_remove_handle(CURLM *m, CURL *h) { return p_curl_multi_remove_handle(m, h); }
CURLMcode ccurl_multi_perform(CURLM *m, int *running) { return p_curl_multi_perform(m, running); }
CURLMcode ccurl_multi_poll(CURLM *m, struct curl_waitfd fds[], unsigned int count, int timeout_ms, int *ready) {
    return p_curl_multi_poll(m, fds, count, timeout_ms, ready);
}
CURLMcode ccurl_multi_wakeup(CURLM *m) { return p_curl_multi_wakeup(m); }
CURLMsg *ccurl_multi_info_read(CURLM *m, int *left) { return p_curl_multi_info_read(m, left); }
CURLMcode ccurl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return p_curl_multi_setopt(m, o, v); }

CURL *ccurl_easy_init(void) { return p_curl_easy_init(); }
void ccurl_easy_cleanup(CURL *h) { p_curl_easy_cleanup(h); }
// Also for an error made without a transfer (a unit test's): loads libcurl first.
const char *ccurl_easy_strerror(CURLcode code) { return ccurl_load() ? "libcurl is not loaded" : p_curl_easy_strerror(code); }
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *text) { return p_curl_slist_append(list, text); }
void ccurl_slist_free_all(struct curl_slist *list) { p_curl_slist_free_all(list); }

CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return p_curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return p_curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return p_curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_write(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return p_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
CURLcode ccurl_setopt_header(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return p_curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
long ccurl_response_code(CURL *h) {
    long code = 0;
    p_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}
const char *ccurl_redirect_url(CURL *h) {
    char *url = NULL;
    p_curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &url);
    return url;
}

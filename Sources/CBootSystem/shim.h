// C the Swift Glibc module does not expose: zlib (gzip user-data), syncfs(2), and the
// posix_spawn extras. (libcurl is CCurl's, loaded on first use.)
#include <zlib.h>

#include <spawn.h>

int syncfs(int fd);
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
int pipe2(int fds[2], int flags);

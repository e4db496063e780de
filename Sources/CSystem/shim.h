// C the Swift Glibc module does not expose: zlib (gzip user-data) and syncfs(2).
#include <zlib.h>
int syncfs(int fd);

// Apache ZooKeeper's C client, multi-threaded flavour: its own threads do the I/O and call
// the watcher; THREADED declares the synchronous zoo_* calls.
#define THREADED 1
#include <zookeeper/zookeeper.h>

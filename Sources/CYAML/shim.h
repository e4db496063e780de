// The system's libyaml (Debian's libyaml-0-2, security-updated with the distribution): its
// parser's events are what EC2BootKit's YAML reader builds nodes from.
#include <yaml.h>

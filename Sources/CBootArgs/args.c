#include "CBootArgs.h"

static int saved_argc = -1;
static char *const *saved_argv = 0;

/* glibc passes (argc, argv, envp) to the functions of .init_array: a documented extension. */
__attribute__((constructor)) static void ec2boot_save_args(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

int ec2boot_argc(void) { return saved_argc; }

char *const *ec2boot_argv(void) { return saved_argv; }

#ifndef CBOOTARGS_H
#define CBOOTARGS_H

/// The argument vector as the kernel gave it to the process, kept by a constructor that glibc
/// calls with (argc, argv, envp) before main. Swift's CommandLine reads /proc/self/cmdline on
/// Linux, which a chroot without /proc (an image builder) does not have.
int ec2boot_argc(void);
char *const *ec2boot_argv(void);

#endif

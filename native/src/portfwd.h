#ifndef TSPOD_PORTFWD_H
#define TSPOD_PORTFWD_H

/* `tspod-launch --portfwd ...`: published ports of a container on a
 * user-defined network (see portfwd.c). */
int portfwd_main(int argc, char **argv);

#endif

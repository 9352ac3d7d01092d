#ifndef TSPOD_CSYS_STDIO_H
#define TSPOD_CSYS_STDIO_H
#include <stddef.h>
#endif

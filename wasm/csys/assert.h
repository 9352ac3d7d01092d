#ifndef TSPOD_CSYS_ASSERT_H
#define TSPOD_CSYS_ASSERT_H
#define assert(x) ((void)0)
#endif

/* version.h: the one place lb4's version is written (binary, metrics). */
#ifndef LB4_VERSION_H
#define LB4_VERSION_H

#define LB4_VERSION	"0.1.0"

#endif

/*
 * healthfile.h: global.health_file, read by keepalived's track_file: "0"
 * while every listener has a server that can take a connection, "1"
 * otherwise.  Replaced atomically (temp file + rename), so a reader never
 * sees it empty or half written.
 */
#ifndef LB4_HEALTHFILE_H
#define LB4_HEALTHFILE_H

/* Writes <healthy> ? "0" : "1" to <path>.  Returns 0 or -1 (logged). */
int	healthfile_write(const char *path, int healthy);

#endif

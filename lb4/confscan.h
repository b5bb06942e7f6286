/*
 * confscan.h: repairs to what libconfig 1.5 says about the text it parsed,
 * for conf.c.  Pure functions over the main file's text: no allocation,
 * no error list (conf.c records what these find).
 */
#ifndef LB4_CONFSCAN_H
#define LB4_CONFSCAN_H

#include <libconfig.h>

/*
 * Called for each integer literal libconfig would wrap: <lit> (<len>
 * bytes, not NUL-terminated) on line <line> of the text.
 */
typedef void	(*confscan_fn)(void *arg, unsigned line, const char *lit,
		    int len);

/*
 * libconfig 1.5 keeps an integer written without an L suffix in an int and
 * wraps it silently: "weight = 4294967297;" reads as 1.  Walks <text>, the
 * NUL-terminated text libconfig parsed, skipping comments, strings and
 * names the way its scanner does, and calls <fn>(<arg>, ...) for each such
 * literal.
 */
void		 confscan_ints(const char *text, confscan_fn fn, void *arg);

/*
 * The line of setting <s>, read from <text> (the main file; NULL when not
 * at hand).  libconfig records a string element's line only after it has
 * read the next token (it looks ahead to join adjacent strings), so in a
 * list closed on its own line the last string is put on the "]" line:
 * such an element is moved back to its own.
 */
unsigned	 confscan_line(const char *text, const config_setting_t *s);

#endif

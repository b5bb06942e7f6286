/*
 * confscan.c: libconfig 1.5's integer wrap and string-element line, found
 * again in the text it parsed (confscan.h).  conf.c keeps the schema.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "confscan.h"

/*
 * The first character that is not a blank on line <n> of <text>, or NULL
 * past the end.
 */
static const char *
text_line(const char *text, unsigned n)
{
	const char	*p = text;

	while (p != NULL && --n > 0)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	return p != NULL ? p + strspn(p, " \t\r") : NULL;
}

/* 1 when line <n> holds no token: it is blank or only a comment. */
static int
blank_line(const char *text, unsigned n)
{
	const char	*p = text_line(text, n);

	return p == NULL || *p == '\0' || *p == '\n' || *p == '#' ||
	    (p[0] == '/' && p[1] == '/');
}

/* 1 when line <n> starts with "," "]" or ")". */
static int
closer_line(const char *text, unsigned n)
{
	const char	*p = text_line(text, n);

	return p != NULL && *p != '\0' && strchr(",])", *p) != NULL;
}

/*
 * A string element put on a closer's line is moved back to the last line
 * above that holds a token: its own.  Included files are not at hand.
 */
unsigned
confscan_line(const char *text, const config_setting_t *s)
{
	unsigned	 n = config_setting_source_line(s);

	if (config_setting_name(s) != NULL ||
	    config_setting_type(s) != CONFIG_TYPE_STRING ||
	    config_setting_source_file(s) != NULL || text == NULL ||
	    !closer_line(text, n))
		return n;
	while (n > 1 && blank_line(text, n - 1))
		n--;
	return n > 1 ? n - 1 : n;
}

/*
 * Scans the number at <p> on <line> and passes it to <fn> if libconfig
 * would wrap it.  Returns the first character after it.
 */
static const char *
scan_number(const char *p, unsigned line, confscan_fn fn, void *arg)
{
	const char		*start = p;
	unsigned long long	 v = 0, limit = INT_MAX;
	int			 base = 10, d;

	if (*p == '-' || *p == '+')
		limit += *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		base = 16;
		p += 2;
	}
	for (; isxdigit((unsigned char)*p); p++) {
		if (base == 10 && !isdigit((unsigned char)*p))
			break;
		d = isdigit((unsigned char)*p) ? *p - '0' :
		    tolower((unsigned char)*p) - 'a' + 10;
		if (v <= limit)		/* saturate, never overflow */
			v = v * (unsigned)base + (unsigned)d;
	}
	if (base == 10 && (*p == '.' || *p == 'e' || *p == 'E')) {
		while (*p != '\0' && (isdigit((unsigned char)*p) ||
		    strchr(".eE+-", *p) != NULL))
			p++;
		return p;	/* a float */
	}
	if (*p == 'L')
		return p;	/* an int64, stored whole */
	if (v > limit)
		fn(arg, line, start, (int)(p - start));
	return p;
}

/* Skips the comment or string at <p>, counting newlines into *<line>. */
static const char *
scan_skip(const char *p, unsigned *line)
{
	if (*p == '#' || (p[0] == '/' && p[1] == '/'))
		return p + strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*') {
		for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
			*line += *p == '\n';
		return *p != '\0' ? p + 2 : p;
	}
	/* A string: *p == '"'. */
	for (p++; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		*line += *p == '\n';
	}
	return *p != '\0' ? p + 1 : p;
}

void
confscan_ints(const char *text, confscan_fn fn, void *arg)
{
	const char	*p = text;
	unsigned	 line = 1;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || *p == '"' ||
		    (p[0] == '/' && (p[1] == '/' || p[1] == '*'))) {
			p = scan_skip(p, &line);
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			while (*p != '\0' && (isalnum((unsigned char)*p) ||
			    strchr("-_*", *p) != NULL))
				p++;
		} else if (isdigit((unsigned char)*p) || ((*p == '-' ||
		    *p == '+') && isdigit((unsigned char)p[1]))) {
			p = scan_number(p, line, fn, arg);
		} else
			p++;
	}
}

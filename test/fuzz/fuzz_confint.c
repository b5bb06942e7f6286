/*
 * fuzz_confint.c: confscan.c, the repair of libconfig's integer scanner.
 *
 * libconfig 1.5 keeps an integer literal without an L suffix in an int and
 * wraps it ("4294967297" reads as 1); confscan.c rescans the text to report
 * such literals.  Here the input is an integer-ish literal (its bytes
 * mapped onto the characters numbers are made of) placed as a server's
 * weight (1..1000) or max_connections (0..INT_MAX) in a fixed config,
 * after one of a few contexts that the rescan must skip the way libconfig
 * does (comments, strings with escapes and digits, multi-line strings).
 *
 * The oracle is the literal's written value, computed here by libconfig's
 * own token rules (scanner.l: integer, integer64, hex, hex64): conf_load()
 * must accept the config exactly when that value is in range, and then
 * hold that value; a wrapped literal must be reported on its own line.
 */
#include <sys/mman.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#define FUZZ_LIBCONFIG
#include "fuzz.h"

#define LIT_MAX		40

static const char lit_chars[] =
    "0123456789012345678901234567890123456789abcdefABCDEFxXL+-.eE";

/* Text before the server; each ends with a newline.  %d counts lines. */
static const struct context {
	const char	*text;
	int		 lines;
} contexts[] = {
	{ "", 0 },
	{ "# a comment with a \"quote and 4294967297\n", 1 },
	{ "/* a block \"comment\n with 99999999999 */\n", 2 },
	{ "// a line comment /* 4294967297\n", 1 },
	{ "global = { user = \"a\\\"b 4294967297 \\\\\"; };\n", 1 },
	{ "global = { user = \"multi\nline 4294967297\"; };\n", 2 },
	{ "global = { workers = 2; /* 2147483648 */ };\n", 1 },
};
#define NCONTEXTS	(sizeof(contexts) / sizeof(contexts[0]))

/* What a literal is to libconfig, and its written value. */
enum kind {
	K_OTHER = 0,		/* not one integer token: not judged */
	K_INT = 1,		/* [-+]?[0-9]+ or 0x...: wrapped to 32 bits */
	K_INT64 = 2,		/* ... with L or LL: stored whole */
};

/*
 * Classifies <s> and puts its value in *<v>, saturated past +/-2^58 so that
 * it never overflows (every bound checked is far below).
 */
static enum kind
classify(const char *s, long long *v)
{
	const long long	 cap = 1LL << 58;
	const char	*p = s;
	int		 neg = 0, base = 10, digits = 0, d;

	*v = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; *p != '\0'; p++, digits++) {
		if (base == 16 && isxdigit((unsigned char)*p))
			d = isdigit((unsigned char)*p) ? *p - '0' :
			    tolower((unsigned char)*p) - 'a' + 10;
		else if (base == 10 && isdigit((unsigned char)*p))
			d = *p - '0';
		else
			break;
		if (*v < cap)
			*v = *v * base + d;
	}
	if (digits == 0)
		return K_OTHER;
	if (neg)
		*v = -*v;
	if (*p == '\0')
		return K_INT;
	if (strcmp(p, "L") == 0 || strcmp(p, "LL") == 0)
		return K_INT64;
	return K_OTHER;
}

static const char *fuzz_path;	/* fuzz_file()'s, for the checks */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct context	*ctx;
	const char		*key;
	struct conf		*c;
	char			 lit[LIT_MAX + 1], *text, *errors = NULL;
	char			 want_err[128];
	long long		 v, min, max;
	enum kind		 kind;
	size_t			 i, n;
	int			 line, len, got;

	if (size < 2)
		return -1;
	ctx = &contexts[data[0] % NCONTEXTS];
	key = data[1] & 1 ? "max_connections" : "weight";
	min = data[1] & 1 ? 0 : 1;
	max = data[1] & 1 ? INT_MAX : 1000;
	n = size - 2 < LIT_MAX ? size - 2 : LIT_MAX;
	for (i = 0; i < n; i++)
		lit[i] = lit_chars[data[2 + i] % (sizeof(lit_chars) - 1)];
	lit[n] = '\0';

	/* The literal is on line ctx->lines + 4. */
	len = asprintf(&text, "%s"
	    "listeners = ( { name = \"l\"; bind = [ \"127.0.0.1:1\" ];\n"
	    "  pool = \"p\"; } );\n"
	    "pools = ( { name = \"p\"; servers = (\n"
	    "  { address = \"127.0.0.1:2\"; %s = %s; }\n"
	    "); } );\n", ctx->text, key, lit);
	if (len == -1)
		abort();
	line = ctx->lines + 4;

	fuzz_path = fuzz_file(text, (size_t)len);
	c = conf_load(fuzz_path, &errors);
	FUZZ_CHECK((c == NULL) != (errors == NULL), "conf and errors");

	kind = classify(lit, &v);
	if (kind != K_OTHER && v >= min && v <= max) {
		FUZZ_CHECK(c != NULL, "%s = %s (%lld) refused:\n%s", key, lit,
		    v, errors);
		got = data[1] & 1 ? c->pools[0].servers[0].max_connections :
		    c->pools[0].servers[0].weight;
		FUZZ_CHECK(got == v, "%s = %s read as %d", key, lit, got);
	} else if (kind != K_OTHER) {
		FUZZ_CHECK(c == NULL, "%s = %s (%lld) accepted as %d", key,
		    lit, v, c->pools[0].servers[0].weight);
		/* A wrapped int is named on its line, as written. */
		if (kind == K_INT && (v > INT_MAX || v < INT_MIN)) {
			snprintf(want_err, sizeof(want_err), "%s:%d: integer "
			    "%s is out of range\n", fuzz_path, line, lit);
			FUZZ_CHECK(strstr(errors, want_err) != NULL, "no '%s' "
			    "in:\n%s", want_err, errors);
		}
	} else if (c != NULL) {
		/* Not an integer to libconfig, yet read as one: only a
		 * literal that libconfig splits into an int and a name
		 * could, and that is a syntax error. */
		FUZZ_CHECK(0, "%s = %s accepted as an integer", key, lit);
	}
	conf_free(c);
	free(errors);
	free(text);
	return 0;
}

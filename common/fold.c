#include "common/fold.h"

#include <stdint.h>
#include <string.h>

#include "common/fold_table.h"

/* Decodes one UTF-8 character at p (at most left bytes): its code point
 * into *cp and its length, or 0 when the bytes there are not valid UTF-8
 * (overlong forms and surrogates included). */
static size_t utf8_next(const unsigned char *p, size_t left, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		c = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		c = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > left)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*cp = c;
	return len;
}

/* True for a combining mark that canonical decomposition puts after a
 * base letter (the blocks of combining diacritical marks). */
static int is_mark(uint32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
	       (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
	       (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* The folded ASCII text of cp from the tables, or NULL when cp is not a
 * Latin letter that folds. */
static const char *latin(uint32_t cp)
{
	const char *s = NULL;

	if (cp >= 0xC0 && cp < 0x250)
		s = fold_latin[cp - 0xC0];
	else if (cp >= 0x1E00 && cp < 0x1F00)
		s = fold_latin_ext[cp - 0x1E00];
	return s && *s ? s : NULL;
}

int fold_span(const char *in, size_t len, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, j = 0, step, add;
	const char *rep;
	char one;
	uint32_t cp;

	if (n == 0)
		return -1;
	while (i < len) {
		step = utf8_next(p + i, len - i, &cp);
		if (step == 0) { /* not UTF-8: the byte as it is */
			step = 1;
			cp = 0xFFFFFFFF;
		}
		if (cp < 0x80) {
			one = (char)(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
			rep = &one;
			add = 1;
		} else if (is_mark(cp)) {
			rep = "";
			add = 0;
		} else if ((rep = latin(cp)) != NULL) {
			add = strlen(rep);
		} else {
			rep = in + i;
			add = step;
		}
		if (j + add >= n) {
			out[j] = '\0';
			return -1;
		}
		memcpy(out + j, rep, add);
		j += add;
		i += step;
	}
	out[j] = '\0';
	return (int)j;
}

int fold_text(const char *in, char *out, size_t n)
{
	return fold_span(in ? in : "", in ? strlen(in) : 0, out, n);
}

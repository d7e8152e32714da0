package tools

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on NWS text in a tool result. Real values are far below them: a
// detailed forecast is a few hundred characters, an alert description a
// few thousand at most.
const (
	// maxShortText caps names, units, times, wind, severities and the like
	// (runes).
	maxShortText = 200
	// maxMediumText caps alert headlines and area descriptions (runes).
	maxMediumText = 1000
	// maxLongText caps detailed forecasts and alert descriptions and
	// instructions (runes).
	maxLongText = 4000
	// maxResultBytes bounds a result: the bytes of its text plus those of
	// the strings in its structured output. Items (periods, alerts) that
	// would go over it are left out.
	maxResultBytes = 100 << 10
	// maxCutsListed bounds the fields a note names.
	maxCutsListed = 5
)

// textCleaner cleans the NWS strings that go into one result and keeps
// count of what it changed, for the result's note and the log.
type textCleaner struct {
	cuts      []string // fields cut, as "alert 3 description (412000 characters)", at most maxCutsListed
	cutFields int      // all fields cut
	stripped  int      // fields that had control characters or escape sequences
	leftOut   int      // items left out for maxResultBytes
	itemName  string   // "forecast periods" or "alerts", for the note
	used      int      // result bytes taken by the items kept
}

// fits reports whether an item of size result bytes fits in the result,
// and counts it if so; the first item always fits. When one does not, it
// and the remaining-1 after it are counted as left out.
func (c *textCleaner) fits(size, remaining int) bool {
	if c.used > 0 && c.used+size > maxResultBytes {
		c.leftOut = remaining
		return false
	}
	c.used += size
	return true
}

// field returns s without control characters or escape sequences and cut
// to max runes; label names the field in the note if it is cut.
func (c *textCleaner) field(label, s string, max int) string {
	s, changed := cleanText(s)
	if changed {
		c.stripped++
	}
	n := utf8.RuneCountInString(s)
	if n <= max {
		return s
	}
	c.cutFields++
	if len(c.cuts) < maxCutsListed {
		c.cuts = append(c.cuts, fmt.Sprintf("%s (%d characters)", label, n))
	}
	cut := 0
	for i := range s {
		if cut == max-1 {
			return s[:i] + "…"
		}
		cut++
	}
	return s
}

// note says what was cut from the result, or "" if nothing was.
func (c *textCleaner) note() string {
	var parts []string
	if c.cutFields > 0 {
		s := fmt.Sprintf("%d upstream text fields were cut to fit size limits (%d, %d or %d characters): %s",
			c.cutFields, maxShortText, maxMediumText, maxLongText, strings.Join(c.cuts, ", "))
		if more := c.cutFields - len(c.cuts); more > 0 {
			s += fmt.Sprintf(" and %d more", more)
		}
		parts = append(parts, s)
	}
	if c.leftOut > 0 {
		parts = append(parts, fmt.Sprintf("%d %s were left out to keep the result under %d KiB (cut to fit size limits)", c.leftOut, c.itemName, maxResultBytes>>10))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Note: " + strings.Join(parts, "; ") + "."
}

// cleanText removes from s what must not reach a client, whose output may
// be a terminal or a model's context: C0 and C1 control characters and
// DEL, except newline and tab, and whole terminal escape sequences (CSI
// such as ESC [ 31 m, OSC such as ESC ] 8 ; ; url BEL, and the other ESC
// sequences), so that no fragment of one is left behind. CR LF and lone
// CR become LF; invalid UTF-8 becomes U+FFFD. It reports whether it
// changed anything other than line endings.
func cleanText(s string) (string, bool) {
	clean := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 && b != '\n' && b != '\t' || b == 0x7f || b >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			changed = true
			i++
		case r == '\r':
			b.WriteByte('\n')
			i++
			if i < len(s) && s[i] == '\n' {
				i++
			}
		case r == '\n' || r == '\t':
			b.WriteRune(r)
			i += size
		case r == 0x1b: // ESC
			i = skipEscape(s, i+1)
			changed = true
		case r == 0x9b: // CSI
			i = skipCSI(s, i+size)
			changed = true
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			i = skipControlString(s, i+size)
			changed = true
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			i += size
			changed = true
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String(), changed
}

// skipEscape returns the index after the escape sequence whose ESC ends
// just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipControlString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then a final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // a two-byte sequence such as ESC c
		return i + 1
	default:
		return i
	}
}

// skipCSI returns the index after a control sequence's parameters,
// intermediates and final byte, starting at i.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipControlString returns the index after the string of an OSC, DCS or
// similar sequence starting at i, ended by BEL, ESC \ or ST. An
// unterminated one is not skipped: without its introducer the rest is
// plain text.
func skipControlString(s string, i int) int {
	for j := i; j < len(s); j++ {
		switch {
		case s[j] == 0x07:
			return j + 1
		case s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\':
			return j + 2
		case strings.HasPrefix(s[j:], "\u009c"):
			return j + len("\u009c")
		}
	}
	return i
}

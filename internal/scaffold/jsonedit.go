package scaffold

// Editing JSON files in place: adding an element or a member keeps every
// other byte of the file, so hand-written formatting (VS Code's files put
// short arrays on one line) survives.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// jsonMember is one element of an array or member of an object.
type jsonMember struct {
	key   string // object members only
	start int    // offset of the key (objects) or the value (arrays)
	val   int    // offset of the value
	end   int    // offset just after the value
}

// jsonScanner finds the byte ranges of values in a valid JSON document.
type jsonScanner struct{ b []byte }

func (s jsonScanner) ws(i int) int {
	for i < len(s.b) && (s.b[i] == ' ' || s.b[i] == '\t' || s.b[i] == '\n' || s.b[i] == '\r') {
		i++
	}
	return i
}

// str returns the end of the string starting at i (a '"').
func (s jsonScanner) str(i int) (int, error) {
	for j := i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// value returns the end of the value starting at i.
func (s jsonScanner) value(i int) (int, error) {
	if i >= len(s.b) {
		return 0, errors.New("unexpected end of JSON")
	}
	switch s.b[i] {
	case '"':
		return s.str(i)
	case '{', '[':
		end, _, err := s.members(i)
		return end, err
	}
	j := i
	for j < len(s.b) && !strings.ContainsRune(" \t\r\n,]}", rune(s.b[j])) {
		j++
	}
	return j, nil
}

// members scans the object or array opening at i and returns the offset
// just after its closing delimiter and its members.
func (s jsonScanner) members(i int) (int, []jsonMember, error) {
	obj := s.b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	var ms []jsonMember
	j := s.ws(i + 1)
	if j < len(s.b) && s.b[j] == closer {
		return j + 1, nil, nil
	}
	for {
		m := jsonMember{start: j}
		if obj {
			kend, err := s.str(j)
			if err != nil {
				return 0, nil, err
			}
			if err := json.Unmarshal(s.b[j:kend], &m.key); err != nil {
				return 0, nil, err
			}
			j = s.ws(kend)
			if j >= len(s.b) || s.b[j] != ':' {
				return 0, nil, errors.New("expected ':'")
			}
			j = s.ws(j + 1)
		}
		m.val = j
		end, err := s.value(j)
		if err != nil {
			return 0, nil, err
		}
		m.end = end
		ms = append(ms, m)
		j = s.ws(end)
		if j >= len(s.b) {
			return 0, nil, errors.New("unexpected end of JSON")
		}
		if s.b[j] == closer {
			return j + 1, ms, nil
		}
		if s.b[j] != ',' {
			return 0, nil, fmt.Errorf("expected ',' or %q", closer)
		}
		j = s.ws(j + 1)
	}
}

// jsonFind follows path (object keys) from the top-level value and returns
// the offset of the value found, or -1 if a key is missing.
func jsonFind(src []byte, path []string) (int, error) {
	if !json.Valid(src) {
		var v any
		err := json.Unmarshal(src, &v)
		return 0, fmt.Errorf("not valid JSON (comments are not supported): %w", err)
	}
	s := jsonScanner{src}
	at := s.ws(0)
	for _, key := range path {
		if src[at] != '{' {
			return 0, fmt.Errorf("%s is not an object", strings.Join(path, "."))
		}
		_, ms, err := s.members(at)
		if err != nil {
			return 0, err
		}
		found := -1
		for _, m := range ms {
			if m.key == key {
				found = m.val
			}
		}
		if found < 0 {
			return -1, nil
		}
		at = found
	}
	return at, nil
}

// lineIndent returns the whitespace that starts the line holding offset i,
// and whether only whitespace precedes i on that line.
func lineIndent(b []byte, i int) (string, bool) {
	start := bytes.LastIndexByte(b[:i], '\n') + 1
	k := start
	for k < i && (b[k] == ' ' || b[k] == '\t') {
		k++
	}
	return string(b[start:k]), k == i
}

// indentText indents every line of text after the first by indent.
func indentText(text, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n"+indent)
}

// jsonAppend adds value (JSON text, formatted as at depth 0) as the last
// element of the array, or as member key of the object, at path. It
// returns an error if the object already has key. Everything else in src
// is kept as it is.
func jsonAppend(src []byte, path []string, key, value string) ([]byte, error) {
	at, err := jsonFind(src, path)
	if err != nil {
		return nil, err
	}
	where := strings.Join(path, ".")
	if where == "" {
		where = "the top-level value"
	}
	if at < 0 {
		return nil, fmt.Errorf("%s is missing", where)
	}
	s := jsonScanner{src}
	obj := src[at] == '{'
	if !obj && src[at] != '[' {
		return nil, fmt.Errorf("%s is not an object or array", where)
	}
	if (obj && key == "") || (!obj && key != "") {
		return nil, fmt.Errorf("%s: wrong container type", where)
	}
	end, ms, err := s.members(at)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if obj && m.key == key {
			return nil, fmt.Errorf("%s already has %q", where, key)
		}
	}
	var prefix string
	if obj {
		k, _ := json.Marshal(key)
		prefix = string(k) + ": "
	}
	var out bytes.Buffer
	if len(ms) == 0 {
		closeAt := end - 1
		indent, _ := lineIndent(src, at)
		inner := indent + "  "
		out.Write(src[:at+1])
		out.WriteString("\n" + inner + prefix + indentText(value, inner) + "\n" + indent)
		out.Write(src[closeAt:])
		return out.Bytes(), nil
	}
	last := ms[len(ms)-1]
	indent, ownLine := lineIndent(src, last.start)
	out.Write(src[:last.end])
	if ownLine {
		out.WriteString(",\n" + indent + prefix + indentText(value, indent))
	} else {
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(value)); err != nil {
			return nil, err
		}
		out.WriteString(", " + prefix + compact.String())
	}
	out.Write(src[last.end:])
	return out.Bytes(), nil
}

// jsonAppendTo appends value (with key, for an object) to the container
// path.member, first adding member to the object at path with the JSON
// text create ("{}" or "[]") if it is missing.
func jsonAppendTo(src []byte, path []string, member string, create string, key, value string) ([]byte, error) {
	full := append(append([]string{}, path...), member)
	at, err := jsonFind(src, full)
	if err != nil {
		return nil, err
	}
	if at < 0 {
		if src, err = jsonAppend(src, path, member, create); err != nil {
			return nil, err
		}
	}
	return jsonAppend(src, full, key, value)
}

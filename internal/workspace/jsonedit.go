package workspace

// Editing JSON files in place: adding, removing or replacing an element or
// a member keeps every other byte of the file, so hand-written formatting
// (VS Code's files put short arrays on one line) survives a sync.

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

// jsonContainer finds the object or array at path and returns its offset,
// the offset just after it and its members.
func jsonContainer(src []byte, path []string) (at, end int, ms []jsonMember, err error) {
	at, err = jsonFind(src, path)
	if err != nil {
		return 0, 0, nil, err
	}
	where := jsonWhere(path)
	if at < 0 {
		return 0, 0, nil, fmt.Errorf("%s is missing", where)
	}
	if src[at] != '{' && src[at] != '[' {
		return 0, 0, nil, fmt.Errorf("%s is not an object or array", where)
	}
	end, ms, err = jsonScanner{src}.members(at)
	return at, end, ms, err
}

func jsonWhere(path []string) string {
	if len(path) == 0 {
		return "the top-level value"
	}
	return strings.Join(path, ".")
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

// jsonCompact returns value on one line, for containers written inline.
func jsonCompact(value string) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(value)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// jsonAppend adds value (JSON text, formatted as at depth 0) as the last
// element of the array, or as member key of the object, at path. It
// returns an error if the object already has key. Everything else in src
// is kept as it is.
func jsonAppend(src []byte, path []string, key, value string) ([]byte, error) {
	at, end, ms, err := jsonContainer(src, path)
	if err != nil {
		return nil, err
	}
	return jsonInsertAt(src, path, at, end, ms, len(ms), key, value)
}

// jsonInsert adds value as element i of the array at path (before the
// element now at i; at the end when i is the length).
func jsonInsert(src []byte, path []string, i int, value string) ([]byte, error) {
	at, end, ms, err := jsonContainer(src, path)
	if err != nil {
		return nil, err
	}
	if i < 0 || i > len(ms) {
		return nil, fmt.Errorf("%s: no position %d", jsonWhere(path), i)
	}
	return jsonInsertAt(src, path, at, end, ms, i, "", value)
}

func jsonInsertAt(src []byte, path []string, at, end int, ms []jsonMember, i int, key, value string) ([]byte, error) {
	where := jsonWhere(path)
	obj := src[at] == '{'
	if (obj && key == "") || (!obj && key != "") {
		return nil, fmt.Errorf("%s: wrong container type", where)
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
	// Written like its neighbour: on its own line with the same indent, or
	// inline.
	ref := ms[min(i, len(ms)-1)]
	indent, ownLine := lineIndent(src, ref.start)
	text := prefix + indentText(value, indent)
	if !ownLine {
		c, err := jsonCompact(value)
		if err != nil {
			return nil, err
		}
		text = prefix + c
	}
	if i == len(ms) {
		last := ms[len(ms)-1]
		out.Write(src[:last.end])
		if ownLine {
			out.WriteString(",\n" + indent + text)
		} else {
			out.WriteString(", " + text)
		}
		out.Write(src[last.end:])
		return out.Bytes(), nil
	}
	out.Write(src[:ref.start])
	out.WriteString(text)
	if ownLine {
		out.WriteString(",\n" + indent)
	} else {
		out.WriteString(", ")
	}
	out.Write(src[ref.start:])
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

// jsonRemove removes element or member i of the container at path with
// the separator next to it, keeping the layout of the others.
func jsonRemove(src []byte, path []string, i int) ([]byte, error) {
	at, end, ms, err := jsonContainer(src, path)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(ms) {
		return nil, fmt.Errorf("%s: no member %d", jsonWhere(path), i)
	}
	var out bytes.Buffer
	switch {
	case len(ms) == 1:
		out.Write(src[:at+1])
		out.Write(src[end-1:])
	case i == 0:
		out.Write(src[:ms[0].start])
		out.Write(src[ms[1].start:])
	default:
		out.Write(src[:ms[i-1].end])
		out.Write(src[ms[i].end:])
	}
	return out.Bytes(), nil
}

// jsonRemoveKey removes member key of the object at path, if it has one.
func jsonRemoveKey(src []byte, path []string, key string) ([]byte, error) {
	_, _, ms, err := jsonContainer(src, path)
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		if m.key == key {
			return jsonRemove(src, path, i)
		}
	}
	return src, nil
}

// jsonSet makes value (JSON text) the value of member key of the object at
// path: it replaces the value in place, or appends the member.
func jsonSet(src []byte, path []string, key, value string) ([]byte, error) {
	at, _, ms, err := jsonContainer(src, path)
	if err != nil {
		return nil, err
	}
	if src[at] != '{' {
		return nil, fmt.Errorf("%s is not an object", jsonWhere(path))
	}
	for _, m := range ms {
		if m.key != key {
			continue
		}
		indent, _ := lineIndent(src, m.start)
		var out bytes.Buffer
		out.Write(src[:m.val])
		out.WriteString(indentText(value, indent))
		out.Write(src[m.end:])
		return out.Bytes(), nil
	}
	return jsonAppend(src, path, key, value)
}

// jsonQuote returns s as a JSON string.
func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

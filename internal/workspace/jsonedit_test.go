package workspace

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONAppend(t *testing.T) {
	tests := []struct {
		name, src string
		path      []string
		key, val  string
		want      string
		wantErr   string
	}{
		{
			name: "object member keeps the rest byte for byte",
			src:  "{\n  \"a\": { \"x\": [1, 2] },\n  \"servers\": {\n    \"one\": {\"url\": \"u\"}\n  }\n}\n",
			path: []string{"servers"}, key: "two", val: "{\n  \"url\": \"v\"\n}",
			want: "{\n  \"a\": { \"x\": [1, 2] },\n  \"servers\": {\n    \"one\": {\"url\": \"u\"},\n    \"two\": {\n      \"url\": \"v\"\n    }\n  }\n}\n",
		},
		{
			name: "array element",
			src:  "{\n  \"configurations\": [\n    {\n      \"args\": [\"-port\", \"7071\"]\n    }\n  ]\n}\n",
			path: []string{"configurations"}, val: "{\n  \"name\": \"b\"\n}",
			want: "{\n  \"configurations\": [\n    {\n      \"args\": [\"-port\", \"7071\"]\n    },\n    {\n      \"name\": \"b\"\n    }\n  ]\n}\n",
		},
		{
			name: "empty array",
			src:  "{\n  \"inputs\": []\n}\n",
			path: []string{"inputs"}, val: "{\n  \"id\": \"x\"\n}",
			want: "{\n  \"inputs\": [\n    {\n      \"id\": \"x\"\n    }\n  ]\n}\n",
		},
		{
			name: "inline array stays inline",
			src:  `{"a": [1, 2]}`,
			path: []string{"a"}, val: "{\n  \"b\": 3\n}",
			want: `{"a": [1, 2, {"b":3}]}`,
		},
		{
			name: "strings with brackets and escapes",
			src:  "{\n  \"s\": \"]}\\\"{[\",\n  \"o\": {\n    \"k\": \"v\"\n  }\n}",
			path: []string{"o"}, key: "k2", val: `"v2"`,
			want: "{\n  \"s\": \"]}\\\"{[\",\n  \"o\": {\n    \"k\": \"v\",\n    \"k2\": \"v2\"\n  }\n}",
		},
		{name: "duplicate key", src: `{"o": {"k": 1}}`, path: []string{"o"}, key: "k", val: "2", wantErr: `o already has "k"`},
		{name: "missing path", src: `{"o": {}}`, path: []string{"p"}, key: "k", val: "2", wantErr: "p is missing"},
		{name: "comments", src: "{\n // c\n}", path: nil, key: "k", val: "2", wantErr: "comments are not supported"},
		{name: "not a container", src: `{"o": 1}`, path: []string{"o"}, key: "k", val: "2", wantErr: "not an object or array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonAppend([]byte(tt.src), tt.path, tt.key, tt.val)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatal("result is not valid JSON")
			}
		})
	}
}

func TestJSONAppendToCreates(t *testing.T) {
	src := "{\n  \"servers\": {}\n}\n"
	got, err := jsonAppendTo([]byte(src), nil, "inputs", "[]", "", `{"id": "x"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"servers\": {},\n  \"inputs\": [\n    {\"id\": \"x\"}\n  ]\n}\n"
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestJSONRemoveInsertSet(t *testing.T) {
	const multi = "{\n  \"a\": [\n    1,\n    2,\n    3\n  ],\n  \"o\": {\n    \"k\": \"v\",\n    \"n\": {\"x\": 1}\n  }\n}\n"
	tests := []struct {
		name string
		edit func(src []byte) ([]byte, error)
		src  string
		want string
	}{
		{"remove first", func(b []byte) ([]byte, error) { return jsonRemove(b, []string{"a"}, 0) }, multi,
			"{\n  \"a\": [\n    2,\n    3\n  ],\n  \"o\": {\n    \"k\": \"v\",\n    \"n\": {\"x\": 1}\n  }\n}\n"},
		{"remove middle", func(b []byte) ([]byte, error) { return jsonRemove(b, []string{"a"}, 1) }, multi,
			"{\n  \"a\": [\n    1,\n    3\n  ],\n  \"o\": {\n    \"k\": \"v\",\n    \"n\": {\"x\": 1}\n  }\n}\n"},
		{"remove last member", func(b []byte) ([]byte, error) { return jsonRemoveKey(b, []string{"o"}, "n") }, multi,
			"{\n  \"a\": [\n    1,\n    2,\n    3\n  ],\n  \"o\": {\n    \"k\": \"v\"\n  }\n}\n"},
		{"remove the only member", func(b []byte) ([]byte, error) { return jsonRemove(b, []string{"o"}, 0) }, `{"o": {"k": 1}}`, `{"o": {}}`},
		{"remove inline", func(b []byte) ([]byte, error) { return jsonRemove(b, []string{"a"}, 1) }, `{"a": [1, 2, 3]}`, `{"a": [1, 3]}`},
		{"remove a missing key", func(b []byte) ([]byte, error) { return jsonRemoveKey(b, []string{"o"}, "zz") }, multi, multi},
		{"insert first", func(b []byte) ([]byte, error) { return jsonInsert(b, []string{"a"}, 0, "0") }, multi,
			"{\n  \"a\": [\n    0,\n    1,\n    2,\n    3\n  ],\n  \"o\": {\n    \"k\": \"v\",\n    \"n\": {\"x\": 1}\n  }\n}\n"},
		{"insert in the middle, indented", func(b []byte) ([]byte, error) { return jsonInsert(b, []string{"a"}, 2, "{\n  \"b\": 1\n}") }, multi,
			"{\n  \"a\": [\n    1,\n    2,\n    {\n      \"b\": 1\n    },\n    3\n  ],\n  \"o\": {\n    \"k\": \"v\",\n    \"n\": {\"x\": 1}\n  }\n}\n"},
		{"insert inline", func(b []byte) ([]byte, error) { return jsonInsert(b, nil, 1, "{\n  \"b\": 1\n}") }, `[1, 2]`, `[1, {"b":1}, 2]`},
		{"insert at the end", func(b []byte) ([]byte, error) { return jsonInsert(b, nil, 2, "3") }, `[1, 2]`, `[1, 2, 3]`},
		{"set a value in place", func(b []byte) ([]byte, error) { return jsonSet(b, []string{"o"}, "k", `"w"`) }, multi,
			"{\n  \"a\": [\n    1,\n    2,\n    3\n  ],\n  \"o\": {\n    \"k\": \"w\",\n    \"n\": {\"x\": 1}\n  }\n}\n"},
		{"set a new member", func(b []byte) ([]byte, error) { return jsonSet(b, []string{"o", "n"}, "y", "2") }, `{"o": {"n": {"x": 1}}}`, `{"o": {"n": {"x": 1, "y": 2}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.edit([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatal("result is not valid JSON")
			}
		})
	}
	if _, err := jsonRemove([]byte(`[1]`), nil, 1); err == nil {
		t.Error("removing element 1 of [1] succeeded")
	}
	if _, err := jsonSet([]byte(`{"a": [1]}`), []string{"a"}, "k", "1"); err == nil {
		t.Error("setting a member of an array succeeded")
	}
}

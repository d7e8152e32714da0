package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

// hostileForecast is a forecast answer whose periods carry name and
// detail, as JSON-encoded strings.
func hostileForecast(n int, name, detail string) []byte {
	ps := make([]nwstest.Period, n)
	for i := range ps {
		ps[i] = nwstest.Period{Name: name, Detail: detail, Wind: "5 mph\x1b[2J", Short: "Clear\u009b31m"}
	}
	return nwstest.Forecast(ps...)
}

// hostileAlerts is an alerts answer of n alerts with the given event and
// description.
func hostileAlerts(n int, event, description string) []byte {
	var fs []map[string]any
	for i := range n {
		fs = append(fs, map[string]any{"id": fmt.Sprint(i), "type": "Feature", "properties": map[string]any{
			"event": event, "areaDesc": "County\x00 " + fmt.Sprint(i), "severity": "Severe", "headline": "Head\x1b]8;;https://evil.example/\x07line\x1b]8;;\x07",
			"description": description, "instruction": "Stay\r\nsafe\x7f.", "senderName": "NWS\u0085Office"}})
	}
	b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
	return b
}

// badRune reports a control character a tool result must not carry:
// C0 and C1 controls and DEL, except newline and tab.
func badRune(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return r, true
		}
	}
	return 0, false
}

// TestUpstreamTextCleaned: text from the NWS reaches a tool result without
// control characters or terminal escape sequences (newlines and tabs
// stay), each field is capped, and so is the whole result, with a note of
// what was cut.
func TestUpstreamTextCleaned(t *testing.T) {
	const forecastPath = "/gridpoints/TOP/32,81/forecast"
	const alertsPath = "/alerts/active/area/TX"
	huge := strings.Repeat("Rain. ", 400_000/6) // 400 KB
	tests := []struct {
		name       string
		path       string
		body       []byte
		tool       string
		args       map[string]any
		wantText   []string // substrings of the text
		wantNot    []string
		wantCut    bool // a note says text was cut
		wantAtMost int  // bytes of the whole result as JSON
	}{
		{
			name: "escapes in a forecast", path: forecastPath, tool: "get_forecast", args: map[string]any{"latitude": 39.7456, "longitude": -97.0892},
			body:     hostileForecast(2, "To\x1b[31mnight\x1b[0m", "Line one.\r\nLine\ttwo.\x1b]0;pwned\x07 Bell\x07 NUL\x00 C1\u0085 end\x1bc."),
			wantText: []string{"Tonight:", "Wind: 5 mph NW", "Forecast: Line one.\nLine\ttwo. Bell NUL C1 end."},
			wantNot:  []string{"[31m", "[0m", "pwned", "[2J", "31m"}, wantAtMost: 8 << 10,
		},
		{
			name: "five 400 KB forecast details", path: forecastPath, tool: "get_forecast", args: map[string]any{"latitude": 39.7456, "longitude": -97.0892},
			body: hostileForecast(5, "Tonight", huge), wantText: []string{"Tonight:", "Forecast: Rain. Rain."}, wantCut: true, wantAtMost: 96 << 10,
		},
		{
			name: "escapes in alerts", path: alertsPath, tool: "get_alerts", args: map[string]any{"state": "TX"},
			body:     hostileAlerts(2, "Flood\x1b[5m Warning", "Rising\x1b[1A water\u009b2K."),
			wantText: []string{"Event: Flood Warning", "Area: County 0", "Description: Rising water.", "Instructions: Stay\nsafe."},
			wantNot:  []string{"[5m", "[1A", "2K", "evil.example"}, wantAtMost: 8 << 10,
		},
		{
			name: "twelve 400 KB alert descriptions", path: alertsPath, tool: "get_alerts", args: map[string]any{"state": "TX"},
			body: hostileAlerts(12, "Flood Warning", huge), wantText: []string{"Event: Flood Warning", "Description: Rain. Rain."}, wantCut: true, wantAtMost: 160 << 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeNWS(t)
			fake.Route(tt.path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/geo+json")
				_, _ = w.Write(tt.body)
			})
			cs := connect(t, fake, setup{})
			res := callTool(t, cs, tt.tool, tt.args)
			if res.IsError {
				t.Fatalf("tool error: %.300s", resultText(t, res))
			}
			text := resultText(t, res)
			whole, _ := json.Marshal(res)
			t.Logf("result of %d bytes (text %d)", len(whole), len(text))
			if len(whole) > tt.wantAtMost {
				t.Errorf("result of %d bytes, want at most %d", len(whole), tt.wantAtMost)
			}
			var sc strings.Builder
			json.NewEncoder(&sc).Encode(res.StructuredContent)
			var structuredText []string
			collectStrings(res.StructuredContent, &structuredText)
			for _, s := range append(structuredText, text) {
				if r, bad := badRune(s); bad {
					t.Errorf("control character %U in %.200q", r, s)
				}
			}
			for _, w := range tt.wantText {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q: %.600q", w, text)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(text, w) || strings.Contains(sc.String(), w) {
					t.Errorf("result contains %q", w)
				}
			}
			cut := strings.Contains(text, "cut to fit")
			if cut != tt.wantCut {
				t.Errorf("note of cut text = %v, want %v; text ends %q", cut, tt.wantCut, text[max(0, len(text)-400):])
			}
			if tt.wantCut && !strings.Contains(sc.String(), "cut to fit") {
				t.Errorf("structured output has no note of cut text")
			}
		})
	}
}

// collectStrings appends every string in a decoded JSON value.
func collectStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, e := range v {
			collectStrings(e, out)
		}
	case map[string]any:
		for _, e := range v {
			collectStrings(e, out)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		in, want string
		changed  bool
	}{
		{"plain text", "plain text", false},
		{"°F, emoji 🌧, accents é", "°F, emoji 🌧, accents é", false},
		{"keeps\nnewlines\tand tabs", "keeps\nnewlines\tand tabs", false},
		{"CR LF\r\nand lone CR\rend", "CR LF\nand lone CR\nend", false},
		{"\x1b[31mred\x1b[0m", "red", true},
		{"\x1b[38;5;196mcolour\x1b[m", "colour", true},
		{"\x1b[2J\x1b[Hhome", "home", true},
		{"\x1b]0;title\x07after", "after", true},
		{"\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\", "link", true},
		{"\u009d8;;https://evil.example/\u009clink", "link", true},
		{"unterminated \x1b]0;rest", "unterminated 0;rest", true},
		{"\u009b1;31mC1 CSI", "C1 CSI", true},
		{"reset\x1bc done", "reset done", true},
		{"charset \x1b(Bback", "charset back", true},
		{"lone ESC at end\x1b", "lone ESC at end", true},
		{"NUL\x00 BEL\x07 BS\x08 DEL\x7f VT\x0b FF\x0c", "NUL BEL BS DEL VT FF", true},
		{"C1 NEL\u0085 and \u0080\u009f", "C1 NEL and ", true},
		{"invalid \xff\xfe bytes", "invalid \ufffd\ufffd bytes", true},
		{"bidi \u202e stays (not C0/C1)", "bidi \u202e stays (not C0/C1)", false},
	}
	for _, tt := range tests {
		got, changed := cleanText(tt.in)
		if got != tt.want || changed != tt.changed {
			t.Errorf("cleanText(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
		if r, bad := badRune(got); bad {
			t.Errorf("cleanText(%q) left %U", tt.in, r)
		}
	}
}

func TestTextCleanerCaps(t *testing.T) {
	tc := &textCleaner{itemName: "alerts"}
	if got := tc.field("a", strings.Repeat("é", 10), 10); got != strings.Repeat("é", 10) {
		t.Errorf("field at the cap changed: %q", got)
	}
	got := tc.field("alert 1 description", strings.Repeat("é", 11), 10)
	if got != strings.Repeat("é", 9)+"…" {
		t.Errorf("field over the cap = %q", got)
	}
	for i := range 7 {
		tc.field(fmt.Sprintf("f%d", i), strings.Repeat("x", 20), 10)
	}
	tc.leftOut = 3
	note := tc.note()
	for _, want := range []string{"8 upstream text fields were cut to fit size limits", "alert 1 description (11 characters)", "and 3 more", "3 alerts were left out"} {
		if !strings.Contains(note, want) {
			t.Errorf("note lacks %q: %s", want, note)
		}
	}
	if (&textCleaner{}).note() != "" {
		t.Error("note for nothing cut")
	}
}

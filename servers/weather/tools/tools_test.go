package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// newFakeNWS starts the fake NWS API with its fixtures, cacheable for 30
// seconds; routes can be overridden per test.
func newFakeNWS(t *testing.T) *nwstest.Server {
	t.Helper()
	return nwstest.Start(t, nwstest.Config{MaxAge: 30 * time.Second})
}

type setup struct {
	nws     func(*nws.Config)
	tools   func(*Config)
	version string
}

// connect starts the tools server against fake and returns a connected
// MCP client session.
func connect(t *testing.T, fake *nwstest.Server, s setup) *mcp.ClientSession {
	t.Helper()
	cfg := nws.Config{
		BaseURL:        fake.URL,
		RequestTimeout: 2 * time.Second,
		RetryBaseDelay: 5 * time.Millisecond,
		RetryMaxDelay:  20 * time.Millisecond,
	}
	if s.nws != nil {
		s.nws(&cfg)
	}
	client, err := nws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tcfg := Config{NWS: client}
	if s.tools != nil {
		s.tools(&tcfg)
	}
	server := NewServer(&mcp.Implementation{Name: "weather", Version: "v0.0.1"}, tcfg)

	ctx := t.Context()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	mc := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "v0.0.1"}, nil)
	var opts *mcp.ClientSessionOptions
	if s.version != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: s.version}
	}
	cs, err := mc.Connect(ctx, ct, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s, %v): protocol error %v", name, args, err)
	}
	return res
}

// resultText returns the text of a result that has exactly one text block.
func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("result has %d content blocks, want 1: %+v", len(res.Content), res.Content)
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want *mcp.TextContent", res.Content[0])
	}
	return tc.Text
}

func wantToolError(t *testing.T, res *mcp.CallToolResult, want string) {
	t.Helper()
	if !res.IsError {
		t.Fatalf("IsError = false, want a tool error %q; content %q", want, resultText(t, res))
	}
	if got := resultText(t, res); got != want {
		t.Errorf("error text\n got: %s\nwant: %s", got, want)
	}
}

func structured[T any](t *testing.T, res *mcp.CallToolResult) T {
	t.Helper()
	var v T
	if res.StructuredContent == nil {
		t.Fatal("no StructuredContent")
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("StructuredContent %s: %v", b, err)
	}
	return v
}

func TestListTools(t *testing.T) {
	for _, version := range []string{"", "2025-11-25", "2025-06-18"} {
		t.Run("protocol "+version, func(t *testing.T) {
			cs := connect(t, newFakeNWS(t), setup{version: version})
			res, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{"get_alerts": {"state"}, "get_forecast": {"latitude", "longitude"}}
			if len(res.Tools) != len(want) {
				t.Errorf("%d tools, want %d", len(res.Tools), len(want))
			}
			for _, tool := range res.Tools {
				required, ok := want[tool.Name]
				if !ok {
					t.Errorf("unexpected tool %q", tool.Name)
					continue
				}
				if tool.Description == "" || tool.OutputSchema == nil || tool.InputSchema == nil {
					t.Errorf("%s: description %q, input schema %v, output schema %v", tool.Name, tool.Description, tool.InputSchema, tool.OutputSchema)
				}
				b, _ := json.Marshal(tool.InputSchema)
				var schema struct {
					Type       string                     `json:"type"`
					Required   []string                   `json:"required"`
					Properties map[string]json.RawMessage `json:"properties"`
				}
				if err := json.Unmarshal(b, &schema); err != nil {
					t.Fatal(err)
				}
				slices.Sort(schema.Required)
				if schema.Type != "object" || !slices.Equal(schema.Required, required) {
					t.Errorf("%s input schema %s", tool.Name, b)
				}
				for _, p := range required {
					if !strings.Contains(string(schema.Properties[p]), `"description"`) {
						t.Errorf("%s: property %s has no description", tool.Name, p)
					}
				}
				ob, _ := json.Marshal(tool.OutputSchema)
				if !strings.Contains(string(ob), `"properties"`) {
					t.Errorf("%s output schema %s", tool.Name, ob)
				}
				if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
					t.Errorf("%s: not annotated read-only", tool.Name)
				}
			}
		})
	}
}

const caAlertsText = `Event: Wind Advisory
Area: Ventura County Mountains; Los Angeles County Mountains; Santa Clarita Valley
Severity: Moderate
Description: * WHAT...Northeast winds 25 to 35 mph with gusts up to 55 mph.

* WHERE...Ventura County Mountains, Los Angeles County Mountains and the Santa Clarita Valley.

* WHEN...From 3 AM Wednesday to 3 PM PST Thursday.

* IMPACTS...Gusty winds will blow around unsecured objects. Tree limbs could be blown down and a few power outages may result.
Instructions: Use extra caution when driving, especially if operating a high profile vehicle. Secure outdoor objects.
---
Event: Beach Hazards Statement
Area: San Francisco Bay Shoreline; Coastal North Bay Including Point Reyes National Seashore; San Mateo Coast
Severity: Moderate
Description: * WHAT...Long period northwest swell of 12 to 15 feet at 17 to 19 seconds, producing sneaker waves and strong rip currents.

* WHERE...Coastal North Bay, San Francisco and the San Mateo Coast.

* WHEN...From Wednesday morning through Wednesday evening.
Instructions: No specific instructions provided
---
Event: Special Weather Statement
Area: San Benito, CA
Severity: Unknown
Description: At 340 PM PST, a strong thunderstorm was located near Hollister, moving east at 15 mph.

HAZARD...Wind gusts up to 40 mph and pea size hail.
Instructions: No specific instructions provided
---
Event: Dense Fog Advisory
Area: Sacramento Valley; Northern San Joaquin Valley
Severity: Minor
Description: * WHAT...Visibility one quarter mile or less in dense fog.

* WHERE...Sacramento Valley and Northern San Joaquin Valley.

* WHEN...From 9 PM this evening to 11 AM PST Wednesday.
Instructions: If driving, slow down, use your headlights, and leave plenty of distance ahead of you.`

func TestGetAlerts(t *testing.T) {
	fake := newFakeNWS(t)
	cs := connect(t, fake, setup{})
	res := callTool(t, cs, "get_alerts", map[string]any{"state": "ca"})
	if res.IsError {
		t.Fatalf("tool error: %s", resultText(t, res))
	}
	// Our text is kept (not replaced by the JSON of the output).
	if got := resultText(t, res); got != caAlertsText {
		t.Errorf("text\n got: %q\nwant: %q", got, caAlertsText)
	}
	out := structured[AlertsOutput](t, res)
	if out.Area != "CA" || out.Total != 4 || out.Omitted != 0 || len(out.Alerts) != 4 {
		t.Fatalf("structured: area %q total %d omitted %d alerts %d", out.Area, out.Total, out.Omitted, len(out.Alerts))
	}
	first := Alert{
		Event:       "Wind Advisory",
		Area:        "Ventura County Mountains; Los Angeles County Mountains; Santa Clarita Valley",
		Severity:    "Moderate",
		Certainty:   "Likely",
		Urgency:     "Expected",
		Headline:    "Wind Advisory issued November 24 at 1:07PM PST until November 26 at 3:00PM PST by NWS Los Angeles/Oxnard CA",
		Description: "* WHAT...Northeast winds 25 to 35 mph with gusts up to 55 mph.\n\n* WHERE...Ventura County Mountains, Los Angeles County Mountains and the Santa Clarita Valley.\n\n* WHEN...From 3 AM Wednesday to 3 PM PST Thursday.\n\n* IMPACTS...Gusty winds will blow around unsecured objects. Tree limbs could be blown down and a few power outages may result.",
		Instruction: "Use extra caution when driving, especially if operating a high profile vehicle. Secure outdoor objects.",
		Effective:   "2026-11-24T13:07:00-08:00",
		Expires:     "2026-11-25T05:15:00-08:00",
		Sender:      "NWS Los Angeles/Oxnard CA",
	}
	if out.Alerts[0] != first {
		t.Errorf("first alert\n got: %+v\nwant: %+v", out.Alerts[0], first)
	}
	if a := out.Alerts[1]; a.Instruction != "" || a.Event != "Beach Hazards Statement" {
		t.Errorf("null instruction alert: %+v", a)
	}
	if a := out.Alerts[2]; a.Severity != "Unknown" || a.Instruction != "" {
		t.Errorf("alert without severity: %+v", a)
	}

	// The cache is off (CacheEntries 0): a second call goes upstream again.
	callTool(t, cs, "get_alerts", map[string]any{"state": "CA"})
	if n := fake.Requests("/alerts/active/area/CA"); n != 2 {
		t.Errorf("upstream requests = %d, want 2", n)
	}
}

func TestGetAlertsCached(t *testing.T) {
	fake := newFakeNWS(t)
	cs := connect(t, fake, setup{nws: func(c *nws.Config) { c.CacheEntries = 16 }})
	for _, s := range []string{"CA", " ca ", "Ca"} {
		if res := callTool(t, cs, "get_alerts", map[string]any{"state": s}); res.IsError || resultText(t, res) != caAlertsText {
			t.Fatalf("state %q: %+v", s, res)
		}
	}
	if n := fake.Requests(""); n != 1 {
		t.Errorf("upstream requests = %d, want 1 (max-age=30 cached)", n)
	}
}

func TestGetAlertsEmpty(t *testing.T) {
	fake := newFakeNWS(t)
	cs := connect(t, fake, setup{})
	res := callTool(t, cs, "get_alerts", map[string]any{"state": " ny "})
	if res.IsError || resultText(t, res) != "No active alerts for NY." {
		t.Fatalf("got %+v", res.Content)
	}
	out := structured[AlertsOutput](t, res)
	if out.Area != "NY" || out.Total != 0 || out.Omitted != 0 || out.Alerts == nil || len(out.Alerts) != 0 {
		t.Errorf("structured %+v", out)
	}
}

// bigAlerts is an alerts collection with n generated features.
func bigAlerts(n int) []byte {
	type props struct {
		Event       string  `json:"event"`
		AreaDesc    string  `json:"areaDesc"`
		Severity    string  `json:"severity"`
		Certainty   string  `json:"certainty"`
		Urgency     string  `json:"urgency"`
		Headline    string  `json:"headline"`
		Description string  `json:"description"`
		Instruction *string `json:"instruction"`
		SenderName  string  `json:"senderName"`
	}
	type feature struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Properties props  `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
		Title    string    `json:"title"`
	}{Type: "FeatureCollection", Title: "Current watches, warnings, and advisories for Texas"}
	for i := range n {
		fc.Features = append(fc.Features, feature{
			ID:   fmt.Sprintf("https://api.weather.gov/alerts/urn:oid:2.49.0.1.840.0.%040d.001.1", i),
			Type: "Feature",
			Properties: props{
				Event:       fmt.Sprintf("Flood Warning %d", i+1),
				AreaDesc:    fmt.Sprintf("County %d, TX", i+1),
				Severity:    "Severe",
				Certainty:   "Likely",
				Urgency:     "Expected",
				Headline:    fmt.Sprintf("Flood Warning %d issued by NWS Fort Worth TX", i+1),
				Description: "...The Flood Warning continues for the Trinity River near Dallas.\n\n* WHAT...Minor flooding is occurring.",
				SenderName:  "NWS Fort Worth TX",
			},
		})
	}
	b, _ := json.Marshal(fc)
	return b
}

func TestGetAlertsCap(t *testing.T) {
	tests := []struct {
		name      string
		maxAlerts int
		total     int
		wantShown int
	}{
		{"default cap", 0, 35, 20},
		{"custom cap", 5, 35, 5},
		{"exactly at cap", 20, 20, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeNWS(t)
			body := bigAlerts(tt.total)
			fake.Route("/alerts/active/area/TX", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/geo+json")
				_, _ = w.Write(body)
			})
			cs := connect(t, fake, setup{tools: func(c *Config) { c.MaxAlerts = tt.maxAlerts }})
			res := callTool(t, cs, "get_alerts", map[string]any{"state": "tx"})
			text := resultText(t, res)
			blocks := strings.Split(text, "\n---\n")
			omitted := tt.total - tt.wantShown
			wantBlocks := tt.wantShown
			if omitted > 0 {
				wantBlocks++
				if want := fmt.Sprintf("%d more alerts not shown (of %d).", omitted, tt.total); blocks[len(blocks)-1] != want {
					t.Errorf("last block %q, want %q", blocks[len(blocks)-1], want)
				}
			}
			if len(blocks) != wantBlocks {
				t.Errorf("%d blocks, want %d", len(blocks), wantBlocks)
			}
			if !strings.HasPrefix(blocks[0], "Event: Flood Warning 1\nArea: County 1, TX\nSeverity: Severe\n") ||
				!strings.HasSuffix(blocks[0], "\nInstructions: No specific instructions provided") {
				t.Errorf("first block %q", blocks[0])
			}
			out := structured[AlertsOutput](t, res)
			if out.Total != tt.total || out.Omitted != omitted || len(out.Alerts) != tt.wantShown {
				t.Errorf("structured total %d omitted %d alerts %d", out.Total, out.Omitted, len(out.Alerts))
			}
		})
	}
}

const forecastText = `Tonight:
Temperature: 28°F
Wind: 5 to 10 mph NW
Forecast: Mostly clear, with a low around 28. Northwest wind 5 to 10 mph.
---
Tuesday:
Temperature: 47°F
Wind: 10 to 15 mph N
Forecast: Sunny, with a high near 47. North wind 10 to 15 mph, with gusts as high as 25 mph.
---
Tuesday Night:
Temperature: 30°F
Wind: 5 mph SE
Forecast: Partly cloudy, with a low around 30. Southeast wind around 5 mph.
---
Wednesday:
Temperature: 52°F
Wind: 15 to 20 mph S
Forecast: A slight chance of rain showers after noon. Mostly sunny, with a high near 52. South wind 15 to 20 mph, with gusts as high as 30 mph. Chance of precipitation is 20%.
---
Wednesday Night:
Temperature: 35°F
Wind: 10 mph S
Forecast: A chance of rain showers. Mostly cloudy, with a low around 35. South wind around 10 mph. Chance of precipitation is 40%. New rainfall amounts less than a tenth of an inch possible.`

func TestGetForecast(t *testing.T) {
	fake := newFakeNWS(t)
	cs := connect(t, fake, setup{})
	res := callTool(t, cs, "get_forecast", map[string]any{"latitude": 39.74561234, "longitude": -97.08919})
	if res.IsError {
		t.Fatalf("tool error: %s", resultText(t, res))
	}
	if got := resultText(t, res); got != forecastText {
		t.Errorf("text\n got: %q\nwant: %q", got, forecastText)
	}
	if got, want := fake.Paths(), []string{"/points/39.7456,-97.0892", "/gridpoints/TOP/32,81/forecast"}; !slices.Equal(got, want) {
		t.Errorf("upstream paths %v, want %v", got, want)
	}
	out := structured[ForecastOutput](t, res)
	if out.Latitude != 39.7456 || out.Longitude != -97.0892 || len(out.Periods) != 5 {
		t.Fatalf("structured: %v,%v with %d periods", out.Latitude, out.Longitude, len(out.Periods))
	}
	temp := 52.0
	pop := 20
	want := Period{
		Name:                "Wednesday",
		StartTime:           "2026-11-26T06:00:00-06:00",
		EndTime:             "2026-11-26T18:00:00-06:00",
		IsDaytime:           true,
		Temperature:         &temp,
		TemperatureUnit:     "F",
		WindSpeed:           "15 to 20 mph",
		WindDirection:       "S",
		ShortForecast:       "Mostly Sunny then Slight Chance Rain Showers",
		DetailedForecast:    "A slight chance of rain showers after noon. Mostly sunny, with a high near 52. South wind 15 to 20 mph, with gusts as high as 30 mph. Chance of precipitation is 20%.",
		PrecipitationChance: &pop,
	}
	got := out.Periods[3]
	if got.Temperature == nil || got.PrecipitationChance == nil || *got.Temperature != *want.Temperature ||
		*got.PrecipitationChance != *want.PrecipitationChance {
		t.Fatalf("period 4 temperature/precipitation: %+v", got)
	}
	got.Temperature, got.PrecipitationChance, want.Temperature, want.PrecipitationChance = nil, nil, nil, nil
	if got != want {
		t.Errorf("period 4\n got: %+v\nwant: %+v", got, want)
	}
	if out.Periods[0].PrecipitationChance != nil {
		t.Errorf("period 1 has a precipitation chance %d for a null value", *out.Periods[0].PrecipitationChance)
	}
}

// Bad input is rejected, as a tool error, before any upstream request.
func TestInputValidation(t *testing.T) {
	const stateHelp = `: use a two-letter US state or territory code such as CA or NY, or an NWS marine area code such as GM`
	tests := []struct {
		tool     string
		args     any
		wantText string // exact error text; "" when only the SDK's schema error is checked
	}{
		{"get_alerts", map[string]any{"state": "XX"}, `invalid state "XX"` + stateHelp},
		{"get_alerts", map[string]any{"state": "C"}, `invalid state "C"` + stateHelp},
		{"get_alerts", map[string]any{"state": "CAL"}, `invalid state "CAL"` + stateHelp},
		{"get_alerts", map[string]any{"state": ""}, `invalid state ""` + stateHelp},
		{"get_alerts", map[string]any{"state": "   "}, `invalid state ""` + stateHelp},
		{"get_alerts", map[string]any{"state": "C1"}, `invalid state "C1"` + stateHelp},
		{"get_alerts", map[string]any{"state": "ca;rm -rf"}, `invalid state "ca;rm -rf"` + stateHelp},
		{"get_alerts", map[string]any{"state": "C A"}, `invalid state "C A"` + stateHelp},
		{"get_alerts", map[string]any{"state": "ÇA"}, `invalid state "ÇA"` + stateHelp},
		{"get_alerts", map[string]any{"state": "加州"}, `invalid state "加州"` + stateHelp},
		{"get_alerts", map[string]any{"state": "../CA"}, `invalid state "../CA"` + stateHelp},
		{"get_alerts", map[string]any{"state": "US"}, `invalid state "US"` + stateHelp},
		{"get_alerts", map[string]any{"state": strings.Repeat("A", 100)}, `invalid state "` + strings.Repeat("A", 32) + `…"` + stateHelp},
		{"get_alerts", map[string]any{}, ""},
		{"get_alerts", map[string]any{"state": 12}, ""},
		{"get_alerts", map[string]any{"state": "CA", "extra": true}, ""},
		{"get_forecast", map[string]any{"latitude": 91, "longitude": 0}, "invalid latitude 91: must be a number from -90 to 90"},
		{"get_forecast", map[string]any{"latitude": -91, "longitude": 0}, "invalid latitude -91: must be a number from -90 to 90"},
		{"get_forecast", map[string]any{"latitude": 90.00001, "longitude": 0}, "invalid latitude 90.00001: must be a number from -90 to 90"},
		{"get_forecast", map[string]any{"latitude": 0, "longitude": 181}, "invalid longitude 181: must be a number from -180 to 180"},
		{"get_forecast", map[string]any{"latitude": 0, "longitude": -180.5}, "invalid longitude -180.5: must be a number from -180 to 180"},
		{"get_forecast", map[string]any{"latitude": 100, "longitude": 200}, "invalid latitude 100: must be a number from -90 to 90\ninvalid longitude 200: must be a number from -180 to 180"},
		{"get_forecast", map[string]any{"latitude": "39.7456", "longitude": -97.0892}, ""},
		{"get_forecast", map[string]any{"latitude": 39.7456}, ""},
		{"get_forecast", map[string]any{}, ""},
		{"get_forecast", map[string]any{"latitude": nil, "longitude": -97.0892}, ""},
	}
	fake := newFakeNWS(t)
	cs := connect(t, fake, setup{})
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.tool, tt.args), func(t *testing.T) {
			res := callTool(t, cs, tt.tool, tt.args)
			if !res.IsError {
				t.Fatalf("IsError = false; content %q", resultText(t, res))
			}
			if tt.wantText != "" {
				wantToolError(t, res, tt.wantText)
			} else if got := resultText(t, res); got == "" {
				t.Error("empty error text")
			} else {
				t.Logf("SDK validation error: %s", got)
			}
		})
	}
	if n := fake.Requests(""); n != 0 {
		t.Errorf("upstream got %d requests for bad input, want 0: %v", n, fake.Paths())
	}
}

// Valid edge-case input reaches the upstream with the normalized value.
func TestInputAccepted(t *testing.T) {
	tests := []struct {
		tool     string
		args     map[string]any
		wantPath string
	}{
		{"get_alerts", map[string]any{"state": "ca"}, "/alerts/active/area/CA"},
		{"get_alerts", map[string]any{"state": " ny "}, "/alerts/active/area/NY"},
		{"get_alerts", map[string]any{"state": "gm"}, "/alerts/active/area/GM"},
		{"get_alerts", map[string]any{"state": "\tPr\n"}, "/alerts/active/area/PR"},
		{"get_alerts", map[string]any{"state": "dc"}, "/alerts/active/area/DC"},
		{"get_forecast", map[string]any{"latitude": 90, "longitude": 180}, "/points/90,180"},
		{"get_forecast", map[string]any{"latitude": -90, "longitude": -180}, "/points/-90,-180"},
		{"get_forecast", map[string]any{"latitude": 0, "longitude": 0}, "/points/0,0"},
		{"get_forecast", map[string]any{"latitude": -0.00001, "longitude": 0.00004}, "/points/0,0"},
		{"get_forecast", map[string]any{"latitude": 61.21806, "longitude": -149.90028}, "/points/61.2181,-149.9003"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.tool, tt.args), func(t *testing.T) {
			fake := newFakeNWS(t)
			cs := connect(t, fake, setup{})
			callTool(t, cs, tt.tool, tt.args) // the fake may answer 404; only the request matters
			if paths := fake.Paths(); len(paths) == 0 || paths[0] != tt.wantPath {
				t.Errorf("upstream paths %v, want first %s", paths, tt.wantPath)
			}
		})
	}
}

func TestUpstreamFaults(t *testing.T) {
	const (
		pointPath    = "/points/39.7456,-97.0892"
		forecastPath = "/gridpoints/TOP/32,81/forecast"
		alertsPath   = "/alerts/active/area/CA"
	)
	forecastArgs := map[string]any{"latitude": 39.7456, "longitude": -97.0892}
	alertsArgs := map[string]any{"state": "CA"}
	malformed := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/geo+json")
		_, _ = w.Write([]byte(`{"type":"FeatureCollection","features":[{"properties":`))
	}

	tests := []struct {
		name      string
		routes    func(f *nwstest.Server)
		setup     setup
		tool      string
		args      map[string]any
		wantError string         // "" means success
		wantCount map[string]int // upstream requests per path
	}{
		{
			name:      "point outside coverage",
			tool:      "get_forecast",
			args:      map[string]any{"latitude": 51.5, "longitude": -0.1276},
			wantError: "no NWS forecast for 51.5,-0.1276: the location is outside NWS coverage (the NWS API covers the US and its territories only)",
			wantCount: map[string]int{"/points/51.5,-0.1276": 1},
		},
		{
			name: "forecast 500 then success",
			routes: func(f *nwstest.Server) {
				f.Route(forecastPath, nwstest.Sequence(f.FixtureHandler("problem_500.json", 500), f.FixtureHandler("forecast_TOP_32_81.json", 200)))
			},
			tool:      "get_forecast",
			args:      forecastArgs,
			wantCount: map[string]int{pointPath: 1, forecastPath: 2},
		},
		{
			name:      "persistent 503",
			routes:    func(f *nwstest.Server) { f.Route(forecastPath, nwstest.StatusHandler(503, "")) },
			tool:      "get_forecast",
			args:      forecastArgs,
			wantError: "the National Weather Service API is unavailable (HTTP 503) after 3 attempts; try again shortly",
			wantCount: map[string]int{pointPath: 1, forecastPath: 3},
		},
		{
			name:      "persistent 500 on alerts with MaxAttempts 2",
			routes:    func(f *nwstest.Server) { f.Route(alertsPath, f.FixtureHandler("problem_500.json", 500)) },
			setup:     setup{nws: func(c *nws.Config) { c.MaxAttempts = 2 }},
			tool:      "get_alerts",
			args:      alertsArgs,
			wantError: "the National Weather Service API is unavailable (HTTP 500) after 2 attempts; try again shortly",
			wantCount: map[string]int{alertsPath: 2},
		},
		{
			name: "429 with Retry-After then success",
			routes: func(f *nwstest.Server) {
				f.Route(alertsPath, nwstest.Sequence(nwstest.StatusHandler(429, "1"), f.FixtureHandler("alerts_CA.json", 200)))
			},
			setup:     setup{nws: func(c *nws.Config) { c.RetryMaxDelay = 2 * time.Second }},
			tool:      "get_alerts",
			args:      alertsArgs,
			wantCount: map[string]int{alertsPath: 2},
		},
		{
			name:      "persistent 429",
			routes:    func(f *nwstest.Server) { f.Route(alertsPath, nwstest.StatusHandler(429, "0")) },
			tool:      "get_alerts",
			args:      alertsArgs,
			wantError: "the National Weather Service API is rate limiting requests (HTTP 429) after 3 attempts; try again in a few seconds",
			wantCount: map[string]int{alertsPath: 3},
		},
		{
			name:      "403 not retried",
			routes:    func(f *nwstest.Server) { f.Route(alertsPath, nwstest.StatusHandler(403, "")) },
			tool:      "get_alerts",
			args:      alertsArgs,
			wantError: "the National Weather Service API rejected the request (HTTP 403: an upstream problem)",
			wantCount: map[string]int{alertsPath: 1},
		},
		{
			name:      "malformed alerts JSON",
			routes:    func(f *nwstest.Server) { f.Route(alertsPath, malformed) },
			tool:      "get_alerts",
			args:      alertsArgs,
			wantError: "the National Weather Service API returned malformed JSON",
			wantCount: map[string]int{alertsPath: 1},
		},
		{
			name:      "malformed forecast JSON",
			routes:    func(f *nwstest.Server) { f.Route(forecastPath, malformed) },
			tool:      "get_forecast",
			args:      forecastArgs,
			wantError: "the National Weather Service API returned malformed JSON",
			wantCount: map[string]int{pointPath: 1, forecastPath: 1},
		},
		{
			name: "forecast URL on a foreign host",
			routes: func(f *nwstest.Server) {
				body := strings.ReplaceAll(string(f.Fixture("points_39.7456_-97.0892.json")),
					f.URL+"/gridpoints/TOP/32,81/forecast\"", "https://evil.example.com/gridpoints/TOP/32,81/forecast\"")
				f.Route(pointPath, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/geo+json")
					_, _ = w.Write([]byte(body))
				})
			},
			tool:      "get_forecast",
			args:      forecastArgs,
			wantError: "the National Weather Service API returned a forecast URL on an unexpected host; refusing to follow it",
			wantCount: map[string]int{pointPath: 1, forecastPath: 0},
		},
		{
			name: "forecast redirected to another host",
			routes: func(f *nwstest.Server) {
				f.Route(forecastPath, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "http://127.0.0.1:1/gridpoints/TOP/32,81/forecast", http.StatusFound)
				})
			},
			tool:      "get_forecast",
			args:      forecastArgs,
			wantError: "the National Weather Service API redirected to another host or too many times; refusing to follow it",
			wantCount: map[string]int{pointPath: 1, forecastPath: 1},
		},
		{
			name: "point without forecast URL",
			routes: func(f *nwstest.Server) {
				f.Route(pointPath, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/geo+json")
					_, _ = w.Write([]byte(`{"type":"Feature","properties":{"gridId":"TOP","gridX":32,"gridY":81,"forecast":null}}`))
				})
			},
			tool:      "get_forecast",
			args:      forecastArgs,
			wantError: "no NWS forecast for 39.7456,-97.0892: the National Weather Service API returned no forecast URL for this point",
			wantCount: map[string]int{pointPath: 1, forecastPath: 0},
		},
		{
			name: "forecast without periods",
			routes: func(f *nwstest.Server) {
				f.Route(forecastPath, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/geo+json")
					_, _ = w.Write([]byte(`{"type":"Feature","properties":{"units":"us","periods":[]}}`))
				})
			},
			tool:      "get_forecast",
			args:      forecastArgs,
			wantError: "no NWS forecast for 39.7456,-97.0892: the National Weather Service API returned a forecast without periods",
			wantCount: map[string]int{pointPath: 1, forecastPath: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeNWS(t)
			if tt.routes != nil {
				tt.routes(fake)
			}
			cs := connect(t, fake, tt.setup)
			res := callTool(t, cs, tt.tool, tt.args)
			if tt.wantError != "" {
				wantToolError(t, res, tt.wantError)
			} else if res.IsError {
				t.Errorf("tool error: %s", resultText(t, res))
			}
			for path, want := range tt.wantCount {
				if got := fake.Requests(path); got != want {
					t.Errorf("upstream requests for %s = %d, want %d", path, got, want)
				}
			}
		})
	}
}

func TestUpstreamTimeout(t *testing.T) {
	fake := newFakeNWS(t)
	stop := make(chan struct{})
	fake.Route("/alerts/active/area/CA", func(w http.ResponseWriter, r *http.Request) {
		select { // answer only once the client gives up (or the test ends)
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) })
	var bound time.Duration
	cs := connect(t, fake, setup{nws: func(c *nws.Config) {
		c.RequestTimeout = 200 * time.Millisecond
		c.MaxAttempts = 3
		bound = 3*c.RequestTimeout + 2*c.RetryMaxDelay + callSlack
	}})
	start := time.Now()
	res := callTool(t, cs, "get_alerts", map[string]any{"state": "CA"})
	elapsed := time.Since(start)
	wantToolError(t, res, "the National Weather Service API did not answer within 200ms")
	// The call is bounded by the tool timeout (plus slack for a loaded machine).
	if elapsed > bound+2*time.Second {
		t.Errorf("call took %v, bound %v", elapsed, bound)
	}
}

// Concurrent identical tool calls share one upstream request.
func TestConcurrentCallsCollapse(t *testing.T) {
	fake := newFakeNWS(t)
	release := make(chan struct{})
	caHandler := fake.FixtureHandler("alerts_CA.json", 200)
	fake.Route("/alerts/active/area/CA", func(w http.ResponseWriter, r *http.Request) {
		<-release
		caHandler(w, r)
	})
	cs := connect(t, fake, setup{nws: func(c *nws.Config) { c.CacheEntries = 16 }})
	const callers = 20
	var wg sync.WaitGroup
	results := make(chan *mcp.CallToolResult, callers)
	for range callers {
		wg.Go(func() {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "get_alerts", Arguments: map[string]any{"state": "CA"}})
			if err != nil {
				t.Errorf("CallTool: %v", err)
				return
			}
			results <- res
		})
	}
	// Either joined the flight or, once released, served from the cache.
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	for res := range results {
		if res.IsError || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != caAlertsText {
			t.Errorf("bad result %+v", res)
		}
	}
	if n := fake.Requests(""); n != 1 {
		t.Errorf("upstream requests = %d, want 1", n)
	}
}

func TestNewServerNeedsClient(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewServer with a nil NWS client did not panic")
		}
	}()
	NewServer(&mcp.Implementation{Name: "weather", Version: "v0"}, Config{})
}

// The tool call bound covers every attempt and wait of the NWS client.
func TestToolTimeoutCoversClientBudget(t *testing.T) {
	c, err := nws.New(nws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := &handlers{nws: c, timeout: c.MaxRequestDuration() + callSlack}
	if least := time.Duration(c.MaxAttempts())*c.RequestTimeout() + callSlack; h.timeout < least {
		t.Errorf("tool timeout %v < %v", h.timeout, least)
	}
}

func TestNewServerFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"bad base URL", map[string]string{"NWS_API_BASE_URL": "ftp://example.com"}, "NWS_API_BASE_URL"},
		{"bad cache size", map[string]string{"NWS_CACHE_ENTRIES": "lots"}, "NWS_CACHE_ENTRIES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewServerFromEnv(&mcp.Implementation{Name: "weather", Version: "test"}, func(k string) string { return tt.env[k] }, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || s == nil {
				t.Fatalf("NewServerFromEnv = %v, %v", s, err)
			}
			ctx := context.Background()
			ct, st := mcp.NewInMemoryTransports()
			if _, err := s.Connect(ctx, st, nil); err != nil {
				t.Fatal(err)
			}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, ct, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res, err := cs.ListTools(ctx, nil)
			if err != nil || len(res.Tools) != 2 {
				t.Fatalf("tools = %v, %v; want get_alerts and get_forecast", res, err)
			}
		})
	}
}

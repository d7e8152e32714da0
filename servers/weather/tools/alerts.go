package tools

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// areaCodes is the set of codes /alerts/active/area/{area} accepts: the 50
// states, DC, the territories and freely associated states, and the marine
// areas. Never written after initialization.
var areaCodes = func() map[string]struct{} {
	codes := strings.Fields(`
		AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD
		MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC
		SD TN TX UT VT VA WA WV WI WY
		DC AS GU MP PR VI UM FM MH PW
		AM AN GM LC LE LH LM LO LS PH PK PM PS PZ SL`)
	m := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		m[c] = struct{}{}
	}
	return m
}()

// AlertsInput is the input of get_alerts.
type AlertsInput struct {
	State string `json:"state" jsonschema:"Two-letter NWS area code, case-insensitive: a US state or territory (e.g. CA, NY, DC, PR, GU) or a marine area (e.g. GM for the Gulf of America, PZ for the eastern North Pacific)."`
}

// AlertsOutput is the structured output of get_alerts.
type AlertsOutput struct {
	Area    string   `json:"area" jsonschema:"The NWS area code the alerts are for, upper case."`
	Total   int      `json:"total" jsonschema:"Number of active alerts for the area."`
	Omitted int      `json:"omitted" jsonschema:"Number of active alerts left out of this result because of the result size cap."`
	Alerts  []Alert  `json:"alerts" jsonschema:"The active alerts, in the order the NWS lists them, at most the cap."`
	Notes   []string `json:"notes,omitempty" jsonschema:"What was cut from the NWS text to fit size limits, if anything."`
}

// Alert is one active alert in [AlertsOutput].
type Alert struct {
	Event       string `json:"event" jsonschema:"Event type, e.g. Winter Storm Warning (Unknown if the NWS gives none)."`
	Area        string `json:"area" jsonschema:"Description of the affected area (Unknown if the NWS gives none)."`
	Severity    string `json:"severity" jsonschema:"CAP severity: Extreme, Severe, Moderate, Minor or Unknown."`
	Certainty   string `json:"certainty,omitempty" jsonschema:"CAP certainty: Observed, Likely, Possible, Unlikely or Unknown."`
	Urgency     string `json:"urgency,omitempty" jsonschema:"CAP urgency: Immediate, Expected, Future, Past or Unknown."`
	Headline    string `json:"headline,omitempty" jsonschema:"One-line headline of the alert."`
	Description string `json:"description,omitempty" jsonschema:"Full description of the hazard."`
	Instruction string `json:"instruction,omitempty" jsonschema:"Recommended actions, if the NWS gives any."`
	Effective   string `json:"effective,omitempty" jsonschema:"When the alert takes effect (RFC 3339)."`
	Expires     string `json:"expires,omitempty" jsonschema:"When the alert message expires (RFC 3339)."`
	Sender      string `json:"sender,omitempty" jsonschema:"Issuing office, e.g. NWS Los Angeles/Oxnard CA."`
}

// normalizeArea upper-cases and trims an area code and checks it is one
// the API knows.
func normalizeArea(s string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(s))
	if _, ok := areaCodes[code]; !ok {
		return "", fmt.Errorf("invalid state %q: use a two-letter US state or territory code such as CA or NY, or an NWS marine area code such as GM", shorten(strings.TrimSpace(s), 32))
	}
	return code, nil
}

// shorten truncates s to at most n runes for use in messages.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func (h *handlers) getAlerts(ctx context.Context, _ *mcp.CallToolRequest, in AlertsInput) (*mcp.CallToolResult, AlertsOutput, error) {
	code, err := normalizeArea(in.State)
	if err != nil {
		h.log.Debug("get_alerts: invalid input", "error", err)
		return nil, AlertsOutput{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	ac, err := h.nws.Alerts(ctx, code)
	if err != nil {
		return nil, AlertsOutput{}, h.upstreamError("get_alerts", err, nil)
	}

	out := AlertsOutput{Area: code, Total: len(ac.Features), Alerts: []Alert{}}
	if out.Total == 0 {
		return textResult(fmt.Sprintf("No active alerts for %s.", code)), out, nil
	}
	shown := ac.Features[:min(len(ac.Features), h.maxAlerts)]
	blocks := make([]string, 0, len(shown)+2)
	tc := &textCleaner{itemName: "alerts"}
	for i, f := range shown {
		p := f.Properties
		// Every string from the NWS is cleaned and capped.
		field := func(name, s string, max int) string {
			return tc.field(fmt.Sprintf("alert %d %s", i+1, name), s, max)
		}
		a := Alert{
			Event:       orDefault(field("event", p.Event, maxShortText), "Unknown"),
			Area:        orDefault(field("areaDesc", p.AreaDesc, maxMediumText), "Unknown"),
			Severity:    orDefault(field("severity", p.Severity, maxShortText), "Unknown"),
			Certainty:   field("certainty", p.Certainty, maxShortText),
			Urgency:     field("urgency", p.Urgency, maxShortText),
			Headline:    field("headline", p.Headline, maxMediumText),
			Description: field("description", p.Description, maxLongText),
			Instruction: field("instruction", p.Instruction, maxLongText),
			Effective:   field("effective", p.Effective, maxShortText),
			Expires:     field("expires", p.Expires, maxShortText),
			Sender:      field("senderName", p.SenderName, maxShortText),
		}
		block := strings.Join([]string{
			"Event: " + a.Event,
			"Area: " + a.Area,
			"Severity: " + a.Severity,
			"Description: " + orDefault(a.Description, "No description available"),
			"Instructions: " + orDefault(a.Instruction, "No specific instructions provided"),
		}, "\n")
		size := len(block) + len(a.Event) + len(a.Area) + len(a.Severity) + len(a.Certainty) + len(a.Urgency) +
			len(a.Headline) + len(a.Description) + len(a.Instruction) + len(a.Effective) + len(a.Expires) + len(a.Sender)
		if !tc.fits(size, len(shown)-i) {
			break
		}
		out.Alerts = append(out.Alerts, a)
		blocks = append(blocks, block)
	}
	out.Omitted = out.Total - len(out.Alerts)
	if out.Omitted > 0 {
		blocks = append(blocks, fmt.Sprintf("%d more alerts not shown (of %d).", out.Omitted, out.Total))
	}
	res, notes := h.cleanedResult("get_alerts", tc, blocks)
	out.Notes = notes
	return res, out, nil
}

// orDefault returns s, or def when s is empty or blank.
func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// textResult is a result with one text block; the SDK adds the structured
// output next to it.
func textResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

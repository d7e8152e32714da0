package nws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
)

// fuzzStatuses are the statuses the fuzzed upstream answers with, picked by
// a fuzzed byte: mostly 200, and the codes the client treats specially.
var fuzzStatuses = []int{200, 200, 200, 200, 203, 204, 206, 301, 304, 400, 403, 404, 429, 500, 502, 503}

// fuzzResponse is the fake upstream: an in-process RoundTripper (no
// sockets, so the fuzzer runs fast) that answers every request with the
// status and body set last, as net/http would deliver them.
type fuzzResponse struct {
	status int
	body   []byte
}

func (r *fuzzResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	if r.status >= 200 && r.status < 300 {
		h.Set("Content-Type", "application/geo+json")
	} else {
		h.Set("Content-Type", "application/problem+json")
	}
	body := r.body
	if r.status == http.StatusNoContent || r.status == http.StatusNotModified {
		body = nil // no body for these, as on the wire
	}
	return &http.Response{
		Status: http.StatusText(r.status), StatusCode: r.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}

// FuzzParseResponses serves arbitrary bodies, with a status from
// fuzzStatuses, as the answer to the alerts, points and forecast requests.
// Invariants: no panic; a 2xx body that is the expected JSON succeeds; any
// other body gives an error wrapping ErrMalformedJSON, and a non-2xx answer
// a *StatusError; every error message is one bounded line without control
// characters, and never carries more of the body than the problem's
// sanitized title and detail.
func FuzzParseResponses(f *testing.F) {
	for _, seed := range []struct {
		kind   byte // 0 alerts, 1 point, 2 forecast
		status byte // index into fuzzStatuses
		body   string
	}{
		{0, 0, `{"type":"FeatureCollection","features":[{"id":"x","properties":{"event":"Wind Advisory","areaDesc":"Here","severity":"Moderate","instruction":null}}]}`},
		{0, 0, `{"type":"FeatureCollection","features":[]}`},
		{0, 0, `{"features":{"not":"an array"}}`},
		{0, 0, `{"type":"FeatureCollection","features":[{"properties":`},
		{0, 0, `<html><body>502 Bad Gateway</body></html>`},
		{0, 0, ``},
		{0, 0, `null`},
		{0, 0, `[]`},
		{0, 0, `{"features":[{"properties":{"event":"\ud800\u0000"}}]}` + "\x00\xff"},
		{1, 0, `{"properties":{"gridId":"TOP","gridX":32,"gridY":81,"forecast":"https://api.weather.gov/gridpoints/TOP/32,81/forecast"}}`},
		{1, 0, `{"properties":{"gridX":1e400}}`},
		{1, 0, `{"properties":{"gridX":1.5}}`},
		{1, 11, `{"correlationId":"x","title":"Not Found","status":404,"detail":"Unable to provide data for requested point 51.5,-0.1"}`},
		{1, 13, "{\"title\":\"Internal\\nError\",\"detail\":\"" + strings.Repeat("x\u202e", 300) + "\"}"},
		{2, 0, `{"properties":{"periods":[{"number":1,"name":"Tonight","temperature":28,"temperatureUnit":"F","probabilityOfPrecipitation":{"unitCode":"wmoUnit:percent","value":null}}]}}`},
		{2, 0, `{"properties":{"periods":[{"temperature":"warm"}]}}`},
		{2, 0, strings.Repeat("[", 20000)},
		{2, 12, `not json at all`},
		{2, 5, `{"properties":{}}`},
	} {
		f.Add(seed.kind, seed.status, []byte(seed.body))
	}
	resp := &fuzzResponse{}
	const base = "https://api.weather.gov"
	c, err := New(Config{BaseURL: base, RequestTimeout: 5 * time.Second, MaxAttempts: 1, HTTPClient: &http.Client{Transport: resp}})
	if err != nil {
		f.Fatal(err)
	}
	forecastURL := base + "/gridpoints/TOP/32,81/forecast"

	f.Fuzz(func(t *testing.T, kind, statusIndex byte, body []byte) {
		status := fuzzStatuses[int(statusIndex)%len(fuzzStatuses)]
		resp.status, resp.body = status, body
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var (
			target any
			err    error
		)
		switch kind % 3 {
		case 0:
			_, err = c.Alerts(ctx, "CA")
			target = &AlertCollection{}
		case 1:
			_, err = c.Point(ctx, 39.7456, -97.0892)
			target = &Point{}
		default:
			_, err = c.Forecast(ctx, forecastURL)
			target = &Forecast{}
		}
		ok2xx := status >= 200 && status < 300
		// What net/http lets through: no body for 204 and 304.
		sent := body
		if status == http.StatusNoContent || status == http.StatusNotModified {
			sent = nil
		}
		parses := strings.TrimSpace(string(sent)) != "" && json.Unmarshal(sent, target) == nil
		switch {
		case ok2xx && parses:
			if err != nil {
				t.Fatalf("status %d, valid body %q: error %v", status, sent, err)
			}
			return
		case ok2xx:
			if !errors.Is(err, ErrMalformedJSON) {
				t.Fatalf("status %d, body %q: error %v, want ErrMalformedJSON", status, sent, err)
			}
		case status >= 300:
			var se *StatusError
			if !errors.As(err, &se) || se.Status != status {
				t.Fatalf("status %d: error %v, want a *StatusError", status, err)
			}
			if len([]rune(se.Title)) > 200 || len([]rune(se.Detail)) > 200 {
				t.Fatalf("problem title/detail not bounded: %q / %q", se.Title, se.Detail)
			}
		}
		msg := err.Error()
		if len(msg) > 2048 {
			t.Fatalf("error message of %d bytes: %.200q", len(msg), msg)
		}
		if len(sent) >= 256 && strings.Contains(msg, string(sent[:256])) {
			t.Fatalf("error message carries the raw body: %.300q", msg)
		}
		for _, r := range msg {
			if unicode.IsControl(r) {
				t.Fatalf("error message has control character %q: %q", r, msg)
			}
		}
	})
}

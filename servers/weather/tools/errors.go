package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws"
)

// handlers holds what the tool handlers share.
type handlers struct {
	nws       *nws.Client
	maxAlerts int
	log       *slog.Logger
	timeout   time.Duration // bound of one tool call
}

// toolError is a tool failure with a message written for the model and
// the user; it wraps the underlying error for errors.Is/As.
type toolError struct {
	msg string
	err error
}

func (e *toolError) Error() string { return e.msg }
func (e *toolError) Unwrap() error { return e.err }

const apiName = "the National Weather Service API"

// upstreamError maps an nws error to a clear, bounded tool error and logs
// it. special, if non-nil, may supply a message for a status error.
func (h *handlers) upstreamError(tool string, err error, special func(*nws.StatusError) string) error {
	var (
		se  *nws.StatusError
		te  *nws.TimeoutError
		re  *nws.RequestError
		msg string
	)
	switch {
	case errors.As(err, &se):
		if special != nil {
			msg = special(se)
		}
		if msg != "" {
			break
		}
		switch {
		case se.Status == http.StatusTooManyRequests:
			msg = fmt.Sprintf("%s is rate limiting requests (HTTP 429) after %s; try again in a few seconds", apiName, attempts(se.Attempts))
		case se.Status >= 500:
			msg = fmt.Sprintf("%s is unavailable (HTTP %d) after %s; try again shortly", apiName, se.Status, attempts(se.Attempts))
		default:
			msg = fmt.Sprintf("%s rejected the request (HTTP %d", apiName, se.Status)
			if se.Detail != "" {
				msg += ": " + se.Detail
			} else if se.Title != "" {
				msg += ": " + se.Title
			}
			msg += ")"
		}
	case errors.As(err, &te):
		msg = fmt.Sprintf("%s did not answer within %s", apiName, roundDuration(te.Timeout))
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("%s did not answer in time", apiName)
	case errors.Is(err, context.Canceled):
		msg = "the request was cancelled"
	case errors.Is(err, nws.ErrMalformedJSON):
		msg = apiName + " returned malformed JSON"
	case errors.Is(err, nws.ErrResponseTooLarge):
		msg = apiName + " returned an unexpectedly large response"
	case errors.Is(err, nws.ErrForeignURL):
		msg = apiName + " returned a forecast URL on an unexpected host; refusing to follow it"
	case errors.Is(err, nws.ErrRedirectRefused):
		msg = apiName + " redirected to another host or too many times; refusing to follow it"
	case errors.As(err, &re):
		msg = fmt.Sprintf("could not reach %s after %s; try again shortly", apiName, attempts(re.Attempts))
	default:
		msg = fmt.Sprintf("could not get an answer from %s; try again shortly", apiName)
	}
	h.log.Info("tool call failed", "tool", tool, "message", msg, "error", err)
	return &toolError{msg: msg, err: err}
}

// cleanedResult joins a result's text blocks, adding tc's note of what was
// cut, if any, which it also returns for the structured output. It logs,
// once per call, that NWS text had to be cleaned or cut: a sign of a
// misbehaving upstream.
func (h *handlers) cleanedResult(tool string, tc *textCleaner, blocks []string) (*mcp.CallToolResult, []string) {
	var notes []string
	if note := tc.note(); note != "" {
		notes = []string{note}
		blocks = append(blocks, note)
	}
	if tc.stripped > 0 || tc.cutFields > 0 || tc.leftOut > 0 {
		h.log.Info("upstream text cleaned", "tool", tool, "fields_with_controls", tc.stripped,
			"fields_cut", tc.cutFields, "items_left_out", tc.leftOut)
	}
	return textResult(strings.Join(blocks, "\n---\n")), notes
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// roundDuration makes a duration readable: whole seconds from 10s up,
// tenths of a second from 1s, milliseconds below.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

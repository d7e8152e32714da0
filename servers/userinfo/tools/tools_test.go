package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/graph"
	"github.com/mcpfunc/mcpfunc/shared/auth/obo"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"obo consent", &obo.Error{Kind: obo.KindConsentRequired, ConsentURL: "https://app.example/.auth/login/aad?post_login_redirect_uri=/authcomplete"}, "https://app.example/.auth/login/aad"},
		{"obo inside graph credential error", &graph.Error{Kind: graph.KindCredential, Err: &obo.Error{Kind: obo.KindInteractionRequired, Codes: []int{50076}}}, "AADSTS50076"},
		{"exchange timeout", fmt.Errorf("exchange: %w", context.DeadlineExceeded), "did not finish in time"},
		{"graph 401", &graph.Error{Kind: graph.KindUnauthorized, Status: 401, Code: "InvalidAuthenticationToken"}, "HTTP 401, InvalidAuthenticationToken); sign in again"},
		{"graph 403", &graph.Error{Kind: graph.KindForbidden, Status: 403}, "User.Read"},
		{"graph 404", &graph.Error{Kind: graph.KindNotFound, Status: 404}, "no profile"},
		{"graph 429", &graph.Error{Kind: graph.KindThrottled, Status: 429, RetryAfter: 7 * time.Second}, "try again in 7s"},
		{"graph 429 no retry-after", &graph.Error{Kind: graph.KindThrottled, Status: 429}, "a few seconds"},
		{"graph 503", &graph.Error{Kind: graph.KindUnavailable, Status: 503}, "unavailable (HTTP 503)"},
		{"graph timeout", &graph.Error{Kind: graph.KindTimeout, Err: context.DeadlineExceeded}, "did not answer in time"},
		{"graph canceled", &graph.Error{Kind: graph.KindCanceled}, "canceled"},
		{"graph bad response", &graph.Error{Kind: graph.KindBadResponse}, "could not read"},
		{"graph network error", &graph.Error{Kind: graph.KindOther, Message: "dial tcp 10.0.0.1:443: connection refused"}, "could not reach Microsoft Graph"},
		{"graph other status", &graph.Error{Kind: graph.KindOther, Status: 400, Code: "BadRequest"}, "HTTP 400, BadRequest"},
		{"anything else", errors.New("weird"), "reading your profile failed: weird"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := message(tt.err); !strings.Contains(got, tt.want) {
				t.Fatalf("message = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

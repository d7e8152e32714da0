// Package tools implements the userinfo MCP tool, get_user_info: the
// signed-in user's Microsoft Graph profile, read on the user's behalf
// through the On-Behalf-Of flow.
package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfunc/mcpfunc/servers/userinfo/graph"
	"github.com/mcpfunc/mcpfunc/shared/auth"
	"github.com/mcpfunc/mcpfunc/shared/auth/obo"
	"github.com/mcpfunc/mcpfunc/shared/hosting"
)

// Exchanger exchanges the caller's token for a Graph token (*obo.Exchanger
// in production).
type Exchanger interface {
	Token(ctx context.Context, userToken string, scopes ...string) (azcore.AccessToken, error)
}

// Profiles reads the signed-in user's profile (*graph.Service in
// production).
type Profiles interface {
	Me(ctx context.Context, cred azcore.TokenCredential) (*graph.User, error)
}

// Config configures the tool.
type Config struct {
	// OBO exchanges the caller's token. Nil when On-Behalf-Of is not
	// configured; the tool then answers with NotConfigured.
	OBO Exchanger
	// NotConfigured explains what to set when OBO is nil.
	NotConfigured string
	// Graph reads the profile. Required.
	Graph Profiles
	// Timeout bounds a whole call (exchange and Graph). Default 25s.
	Timeout time.Duration
	// Logger receives a line per failed call. Default: discard.
	Logger *slog.Logger
}

// UserInfo is the structured output of get_user_info.
type UserInfo struct {
	DisplayName       string `json:"displayName" jsonschema:"The user's display name."`
	Mail              string `json:"mail,omitempty" jsonschema:"The user's primary email address, if any."`
	UserPrincipalName string `json:"userPrincipalName" jsonschema:"The user's sign-in name (UPN)."`
	ID                string `json:"id" jsonschema:"The user's object ID in Microsoft Entra ID."`
}

type handler struct{ cfg Config }

// NewServer creates the MCP server for impl with get_user_info registered.
func NewServer(impl *mcp.Implementation, cfg Config) *mcp.Server {
	if cfg.Graph == nil {
		panic("tools: Config.Graph is nil")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 25 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := mcp.NewServer(impl, hosting.ServerOptions())
	openWorld := true
	mcp.AddTool(s, &mcp.Tool{
		Name:        "get_user_info",
		Title:       "Signed-in user",
		Description: "Get the signed-in user's profile from Microsoft Graph: display name, email, user principal name and ID.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: &openWorld},
	}, handler{cfg}.getUserInfo)
	return s
}

// errAppOnly is the tool error get_user_info answers to an application
// calling for itself (an app-only token, see auth.AppOnly): there is no
// user whose profile it could read, and Entra refuses On-Behalf-Of for
// such a token (AADSTS7000114), so none is attempted.
var errAppOnly = errors.New("this tool acts on behalf of a signed-in user; an application cannot call it")

func (h handler) getUserInfo(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, UserInfo, error) {
	if req != nil && req.Extra != nil && auth.AppOnly(req.Extra.TokenInfo) {
		return nil, UserInfo{}, errAppOnly
	}
	if h.cfg.OBO == nil {
		return nil, UserInfo{}, errors.New(h.cfg.NotConfigured)
	}
	token, err := auth.BearerToken(auth.RequestHeader(req))
	if err != nil {
		switch {
		case errors.Is(err, auth.ErrNoBearerToken):
			return nil, UserInfo{}, errors.New("no access token reached the server: call it through Easy Auth (deployed) or with MCP_AUTH=entra (local), so that the client signs in and sends `Authorization: Bearer <token>`")
		default:
			return nil, UserInfo{}, errors.New("the Authorization header is malformed: it must be `Bearer <token>`")
		}
	}
	// Only a token the MCP endpoint verified (easyauth or entra mode) goes
	// to Entra: with MCP_AUTH=none nothing checked it, and a caller could
	// make the server present any string with its own credential.
	if req.Extra == nil || req.Extra.TokenInfo == nil {
		return nil, UserInfo{}, errors.New("this server does not verify callers' tokens (MCP_AUTH=none or key), so it does not exchange them for Microsoft Graph tokens: run it with MCP_AUTH=entra locally, or behind Easy Auth (MCP_AUTH=easyauth) on Azure")
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	// Exchange first, then call Graph with the result, so that a slow or
	// failing exchange is reported as such and not as a Graph timeout.
	at, err := h.cfg.OBO.Token(ctx, token, graph.DefaultScope)
	var u *graph.User
	if err == nil {
		u, err = h.cfg.Graph.Me(ctx, staticCredential{at})
	}
	if err != nil {
		msg := message(err)
		h.cfg.Logger.InfoContext(ctx, "get_user_info failed", "message", msg, "error", err)
		return nil, UserInfo{}, errors.New(msg)
	}
	out := UserInfo{DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName, ID: u.ID}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text(out)}}}, out, nil
}

// staticCredential hands Graph the token the exchange produced.
type staticCredential struct{ token azcore.AccessToken }

func (c staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return c.token, nil
}

// text formats the profile for people and models.
func text(u UserInfo) string {
	mail := u.Mail
	if mail == "" {
		mail = "(none)"
	}
	return fmt.Sprintf("Display name: %s\nEmail: %s\nUser principal name: %s\nID: %s", u.DisplayName, mail, u.UserPrincipalName, u.ID)
}

// message turns an error from the exchange or from Graph into text a user
// can act on. Neither carries token material.
func message(err error) string {
	var oe *obo.Error
	if errors.As(err, &oe) {
		return oe.UserMessage()
	}
	if errors.Is(err, context.DeadlineExceeded) && !errors.As(err, new(*graph.Error)) {
		return "signing in to Microsoft Graph on your behalf did not finish in time; try again"
	}
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return "reading your profile failed: " + err.Error()
	}
	switch ge.Kind {
	case graph.KindUnauthorized:
		return "Microsoft Graph rejected the access token (HTTP 401" + code(ge) + "); sign in again"
	case graph.KindForbidden:
		return "Microsoft Graph refused access to your profile (HTTP 403" + code(ge) + "): the app registration needs the delegated permission User.Read, consented for you or your organization"
	case graph.KindThrottled:
		wait := "a few seconds"
		if ge.RetryAfter > 0 {
			wait = ge.RetryAfter.String()
		}
		return "Microsoft Graph is throttling requests (HTTP 429); try again in " + wait
	case graph.KindUnavailable:
		return fmt.Sprintf("Microsoft Graph is unavailable (HTTP %d); try again shortly", ge.Status)
	case graph.KindTimeout:
		return "Microsoft Graph did not answer in time; try again"
	case graph.KindCanceled:
		return "the request was canceled"
	case graph.KindNotFound:
		return "Microsoft Graph has no profile for the signed-in account (HTTP 404" + code(ge) + ")"
	case graph.KindBadResponse:
		return "Microsoft Graph returned an answer this server could not read"
	default:
		if ge.Status == 0 {
			// A network failure: its text names internal addresses, which
			// are for the log, not for the user.
			return "could not reach Microsoft Graph (the connection failed); try again shortly"
		}
		return fmt.Sprintf("Microsoft Graph answered HTTP %d%s; reading your profile failed", ge.Status, code(ge))
	}
}

func code(e *graph.Error) string {
	if e.Code == "" {
		return ""
	}
	return ", " + e.Code
}

package auth

import (
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// AppOnly reports whether ti, a token the middleware of [Protect]
// verified (req.Extra.TokenInfo in a tool handler), is app-only: an
// application calling for itself with the client credentials flow (a
// managed identity, a daemon, an agent's identity), with no signed-in
// user. Such a token carries app roles (admitted by MCP_AUTH_ROLES) and no
// delegated scopes, and cannot be exchanged On-Behalf-Of (Entra refuses
// it, AADSTS7000114), so a tool that acts for a user must refuse it.
//
// The idtyp claim decides when the token has it ("app" or "user", an
// optional claim of the app registration); otherwise a token without
// delegated scopes (scp) is app-only, since the verifier admits only
// tokens with scp or roles. It is false for nil.
func AppOnly(ti *mcpauth.TokenInfo) bool {
	if ti == nil {
		return false
	}
	switch extraString(ti, "idtyp") {
	case "app":
		return true
	case "user":
		return false
	}
	scp, _ := ti.Extra["scp"].([]string)
	return len(scp) == 0 && len(ti.Scopes) == 0
}

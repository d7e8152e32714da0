package authtest

import "time"

// AppClaims returns the claims of a v2.0 access token that this fake's
// Entra would issue to the application named app calling for itself
// (client credentials: a managed identity, a daemon, an agent's identity)
// with the app roles granted to it, for this fake's app, valid for an
// hour: iss, tid, aud, oid and sub (both the caller's service principal,
// [OID] of app), idtyp "app", roles, azp (a client ID derived from app;
// read it back with [Claim]), azpacr, ver, iat, nbf, exp. There is no scp
// and no name, as in Entra's app-only tokens. Edit them and pass them to
// [Entra.Sign] for other tokens.
func (e *Entra) AppClaims(app string, roles ...string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":    e.Issuer(),
		"tid":    e.tenant,
		"aud":    e.clientID,
		"oid":    OID(app),
		"sub":    OID(app),
		"idtyp":  "app",
		"roles":  roles,
		"azp":    OID("client:" + app),
		"azpacr": "2",
		"ver":    "2.0",
		"iat":    now.Add(-time.Minute).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"exp":    now.Add(time.Hour).Unix(),
	}
}

// AppToken is [Entra.AppClaims] of app with roles, signed by the fake: an
// app-only token the verifier accepts for the app when one of roles is
// accepted (MCP_AUTH_ROLES).
func (e *Entra) AppToken(app string, roles ...string) string {
	return e.Sign(e.AppClaims(app, roles...))
}

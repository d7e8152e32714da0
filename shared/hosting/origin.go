package hosting

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// envAllowedOrigins lists, comma-separated, the browser origins besides
// the server's own whose pages may POST to /mcp.
const envAllowedOrigins = "MCP_ALLOWED_ORIGINS"

// maxAllowedOrigins bounds the origins a server trusts.
const maxAllowedOrigins = 64

// WithAllowedOrigins trusts browser pages from origins (such as
// "https://app.example.com" or "http://localhost:6274") to POST to /mcp.
// MCP_ALLOWED_ORIGINS adds to the list. Requests without an Origin header,
// as native clients send them, and same-origin requests are always served.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) { c.origins = append(c.origins, origins...) }
}

// allowedOrigins returns the trusted origins, those of WithAllowedOrigins
// first, normalized as browsers send them: lower case, without a trailing
// slash or the scheme's default port.
func (c *config) allowedOrigins() ([]string, error) {
	var out []string
	add := func(src, raw string) error {
		o, err := normalizeOrigin(raw)
		if err != nil {
			return fmt.Errorf("%s: %q: %w", src, raw, err)
		}
		out = append(out, o)
		return nil
	}
	for _, o := range c.origins {
		if err := add("WithAllowedOrigins", o); err != nil {
			return nil, err
		}
	}
	for o := range strings.SplitSeq(c.getenv(envAllowedOrigins), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if err := add(envAllowedOrigins, o); err != nil {
			return nil, err
		}
	}
	if len(out) > maxAllowedOrigins {
		return nil, fmt.Errorf("%s and WithAllowedOrigins list %d origins; at most %d are allowed", envAllowedOrigins, len(out), maxAllowedOrigins)
	}
	return out, nil
}

// normalizeOrigin checks that s is an http or https origin and writes it
// as a browser sends it in the Origin header.
func normalizeOrigin(s string) (string, error) {
	const form = "use an origin such as https://app.example.com or http://localhost:6274 (scheme, host and optional port; no path, wildcard or null)"
	u, err := url.Parse(strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "/")))
	if err != nil {
		return "", fmt.Errorf("%s: %w", form, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.Contains(u.Host, "*") {
		return "", fmt.Errorf("not an origin: %s", form)
	}
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") { // IPv6 literal
			u.Host = "[" + u.Host + "]"
		}
	}
	return u.Scheme + "://" + u.Host, nil
}

// newCrossOriginProtection returns net/http's check, trusting origins.
func newCrossOriginProtection(origins []string) (*http.CrossOriginProtection, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range origins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("%s: %w", envAllowedOrigins, err)
		}
	}
	return cop, nil
}

// checkOrigin refuses cross-origin browser requests with 403 and a
// JSON-RPC error, as the MCP transport requires of servers ("MUST validate
// the Origin header"): a page on another site could otherwise call tools
// with the user's network position or cookies. It uses
// [http.CrossOriginProtection], which passes GET, HEAD and OPTIONS (the
// MCP handler answers those with 405), requests without Origin and
// Sec-Fetch-Site (native clients), Sec-Fetch-Site same-origin or none,
// an Origin whose host is the request's Host, and trusted origins.
//
// Behind the Functions host the Host is 127.0.0.1:<port>, not the public
// name, so a same-origin page is recognized by Sec-Fetch-Site, which every
// current browser sends; an old browser that sends only Origin needs that
// origin listed in MCP_ALLOWED_ORIGINS.
func checkOrigin(cop *http.CrossOriginProtection, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cop.Check(r) == nil {
			next.ServeHTTP(w, r)
			return
		}
		info := requestInfo(r)
		info.rejected = "cross_origin"
		origin := r.Header.Get("Origin")
		info.origin = clip(origin, maxLogValue)
		if origin == "" {
			origin = "(none; Sec-Fetch-Site " + r.Header.Get("Sec-Fetch-Site") + ")"
		}
		writeRPCError(w, http.StatusForbidden, jsonrpc.CodeInvalidRequest, fmt.Sprintf(
			"cross-origin request refused: origin %s may not call this MCP server; its operator can allow a web client's origin in %s",
			clip(origin, 200), envAllowedOrigins))
	})
}

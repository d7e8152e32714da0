package auth

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// ParseAuthorityHost is the one parser of AZURE_AUTHORITY_HOST, used by the
// token [Verifier] and by on-behalf-of alike. "" means
// [DefaultAuthorityHost]. Accepted: an https URL, or an http URL whose host
// is loopback (localhost, 127.0.0.0/8, ::1), for fakes in tests; no user
// info, query or fragment. It returns the URL without a trailing slash.
//
// On-behalf-of needs more: MSAL sends the exchange only to https
// authorities, so [OBOConfig] refuses a loopback http authority when it is
// used (see [AuthorityIsHTTPS]).
func ParseAuthorityHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultAuthorityHost, nil
	}
	u, err := url.Parse(s)
	if err == nil && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery &&
		(u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Host)) {
		return strings.TrimRight(s, "/"), nil
	}
	return "", fmt.Errorf("auth: %s=%q must be an https URL such as %s (plain http only on a loopback host, for tests)", EnvAuthorityHost, s, DefaultAuthorityHost)
}

// AuthorityIsHTTPS reports whether an authority accepted by
// [ParseAuthorityHost] uses https, which on-behalf-of requires.
func AuthorityIsHTTPS(authority string) bool {
	return strings.HasPrefix(strings.ToLower(authority), "https://")
}

// isLoopbackHost reports whether a host or host:port is localhost or a
// loopback IP address. Names that merely start with "127." are not.
func isLoopbackHost(hostport string) bool {
	h := strings.TrimSpace(hostport)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

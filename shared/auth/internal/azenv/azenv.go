// Package azenv is what shared/auth (the token verifier and the
// authorization mode) and shared/auth/obo (On-Behalf-Of) both read from the
// environment: the App Service variables they share, and the one parser of
// AZURE_AUTHORITY_HOST, so that both accept the same authorities.
package azenv

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Environment variables read by both packages; their documentation
// describes each one.
const (
	// AuthClientID is the app registration's client ID, set by App
	// Service authentication (Easy Auth).
	AuthClientID = "WEBSITE_AUTH_CLIENT_ID"
	// AuthAllowedTenants lists the tenants Easy Auth accepts.
	AuthAllowedTenants = "WEBSITE_AUTH_AAD_ALLOWED_TENANTS"
	// AuthorityHost is the Entra authority host (sovereign clouds, tests).
	AuthorityHost = "AZURE_AUTHORITY_HOST"
	// WebsiteHostname is the app's public host name, set by App Service.
	WebsiteHostname = "WEBSITE_HOSTNAME"
	// WebsiteSiteName is set by App Service / Functions on Azure: the sign
	// that the process runs there.
	WebsiteSiteName = "WEBSITE_SITE_NAME"
)

// DefaultAuthorityHost is the Microsoft Entra ID authority host of the
// public cloud.
const DefaultAuthorityHost = "https://login.microsoftonline.com"

// ParseAuthorityHost is the one parser of AZURE_AUTHORITY_HOST, used by the
// token verifier and by on-behalf-of alike. "" means
// [DefaultAuthorityHost]. Accepted: an https URL, or an http URL whose host
// is loopback (localhost, 127.0.0.0/8, ::1), for fakes in tests; no user
// info, query or fragment. It returns the URL without a trailing slash.
//
// On-behalf-of needs more: MSAL sends the exchange only to https
// authorities, so obo refuses a loopback http authority when it is used.
func ParseAuthorityHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultAuthorityHost, nil
	}
	u, err := url.Parse(s)
	if err == nil && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery &&
		(u.Scheme == "https" || u.Scheme == "http" && IsLoopbackHost(u.Host)) {
		return strings.TrimRight(s, "/"), nil
	}
	return "", fmt.Errorf("auth: %s=%q must be an https URL such as %s (plain http only on a loopback host, for tests)", AuthorityHost, s, DefaultAuthorityHost)
}

// IsLoopbackHost reports whether a host or host:port is localhost or a
// loopback IP address. Names that merely start with "127." are not.
func IsLoopbackHost(hostport string) bool {
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

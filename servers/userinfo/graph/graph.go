// Package graph is a tiny Microsoft Graph client that reads the signed-in
// user's profile (GET /me) with an on-behalf-of credential.
//
// # Design
//
// The work is split in two parts:
//
//   - [Service] is built once per process by [NewService]. It owns everything
//     that does not depend on the caller: the HTTP client with the Graph
//     middleware pipeline (retry, redirect, telemetry, the
//     /users/me-token-to-replace → /me URL rewrite, …), the JSON
//     (de)serializer registries, the base URL and the list of hosts that may
//     receive a token.
//   - Each call ([Service.Me]) takes the caller's credential (an OBO
//     credential differs per user) and builds the per-call pieces, which are
//     plain struct allocations: an authentication provider and a kiota
//     request adapter that share the Service's HTTP client and connection
//     pool.
//
// [Client] binds a Service to one credential for callers that prefer
// NewClient(cfg).Me(ctx).
//
// # Build cost
//
// Only the msgraph-sdk-go subpackages models and models/odataerrors are
// imported (not the root package and not the users request builders, see
// [Service.Me]); the models package alone still needs about 4.3 GiB of RAM
// and 90 s to compile.
//
// # Serializers without global registration
//
// The root msgraph-sdk-go package registers the kiota JSON, text, form and
// multipart factories in kiota's process-wide default registries when a
// GraphServiceClient is created. This package does not touch those globals:
// NewService creates its own parse-node and serialization-writer registries
// (JSON only, which is all /me needs) and hands them to the adapter
// constructor that takes factories explicitly
// (msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient).
//
// # Retries and timeouts
//
// Every call is bounded by Config.Timeout, which covers the token request
// (the OBO exchange runs inside the authentication provider), every HTTP
// attempt and every retry wait. The kiota RetryHandler in the Graph
// middleware retries 429, 503 and 504 up to 3 times, waiting for
// Retry-After when the response carries it and otherwise 3 s, 6 s, 12 s
// (+ up to 1 s jitter). This package keeps that handler but only lets it retry
// when the wait fits in the time left before the call's deadline; otherwise
// the 429/503/504 is returned at once as an [*Error] (with RetryAfter set when
// the server sent one) instead of sleeping into a timeout.
package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	kjson "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	msgraphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

const (
	// DefaultBaseURL is the Microsoft Graph v1.0 endpoint used when
	// Config.BaseURL is empty.
	DefaultBaseURL = "https://graph.microsoft.com/v1.0"
	// DefaultScope is the token scope requested from the credential when
	// Config.Scopes is empty.
	DefaultScope = "https://graph.microsoft.com/.default"
	// DefaultTimeout bounds each call when Config.Timeout is zero.
	DefaultTimeout = 10 * time.Second

	// graphLibraryVersion is reported in the SdkVersion telemetry header,
	// as the root msgraph-sdk-go package would do for the same module
	// version (see go.mod).
	graphLibraryVersion = "1.89.0"

	// meURLTemplate is the RFC 6570 template of GET /me with $select, in
	// kiota's form ({+baseurl} is filled in by the request adapter).
	meURLTemplate = "{+baseurl}/me{?%24select}"
)

// Config configures a [Service] or a [Client].
type Config struct {
	// Credential issues the access tokens sent to Graph, normally the
	// on-behalf-of credential of the caller. Required by NewClient; ignored
	// by NewService, whose callers pass a credential to each Service.Me call.
	Credential azcore.TokenCredential
	// BaseURL is the Graph endpoint including the version segment. Default
	// DefaultBaseURL. It must be https, except on a loopback host
	// (localhost, 127.0.0.1, ::1) where http is accepted for tests. Only
	// this URL's host receives the token.
	BaseURL string
	// HTTPClient optionally supplies the base transport (for example a TLS
	// test server's client). Only its Transport is used (nil means
	// http.DefaultTransport); the Graph middleware is always layered on top.
	HTTPClient *http.Client
	// Timeout bounds each call, token acquisition and retries included.
	// Default DefaultTimeout.
	Timeout time.Duration
	// Scopes requested from the credential. Default [DefaultScope]; set it
	// for a national cloud (for example https://graph.microsoft.us/.default).
	Scopes []string
}

// maxTimeout is the longest GRAPH_TIMEOUT ConfigFromEnv accepts.
const maxTimeout = 2 * time.Minute

// ConfigFromEnv reads the Graph settings from environment variables read
// with getenv (typically os.Getenv):
//
//   - GRAPH_BASE_URL: the Graph endpoint (Config.BaseURL; checked by
//     NewService); default DefaultBaseURL
//   - GRAPH_TIMEOUT: the bound of each call, retries included, a Go
//     duration of at most 2m (Config.Timeout); default DefaultTimeout
//
// The caller sets Credential, HTTPClient and Scopes as it needs.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{BaseURL: strings.TrimSpace(getenv("GRAPH_BASE_URL"))}
	if v := strings.TrimSpace(getenv("GRAPH_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxTimeout {
			return Config{}, fmt.Errorf("GRAPH_TIMEOUT=%q: want a duration such as 10s, at most 2m", v)
		}
		cfg.Timeout = d
	}
	return cfg, nil
}

// User is the signed-in user's profile as returned by GET /me.
type User struct {
	// ID is the user's object ID in the directory.
	ID string
	// DisplayName is the name shown in address lists.
	DisplayName string
	// Mail is the primary SMTP address; it may be empty.
	Mail string
	// UserPrincipalName is the sign-in name, such as ada@example.com.
	UserPrincipalName string
}

// Service holds the caller-independent parts of a Graph client and is safe
// for concurrent use. Build one per process with [NewService] and pass each
// caller's credential to [Service.Me].
type Service struct {
	baseURL       string
	validHosts    []string
	scopes        []string
	timeout       time.Duration
	httpClient    *http.Client
	clientOptions msgraphgocore.GraphClientOptions
	parseNodes    absser.ParseNodeFactory
	writers       absser.SerializationWriterFactory
	errorMapping  abs.ErrorMappings
	options       []abs.RequestOption
}

// NewService validates cfg and builds the shared HTTP client and Graph
// middleware pipeline. cfg.Credential is not used.
func NewService(cfg Config) (*Service, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("graph: invalid BaseURL: %w", err)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("graph: invalid BaseURL %q: no host", base)
	}
	switch {
	case strings.EqualFold(u.Scheme, "https"):
	case strings.EqualFold(u.Scheme, "http") && isLoopback(host):
	default:
		// kiota's token provider refuses to send a token over anything
		// but https to a non-loopback host; fail early and clearly.
		return nil, fmt.Errorf("graph: invalid BaseURL %q: scheme must be https (http only for a loopback host)", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("graph: invalid BaseURL %q: no query or fragment allowed", base)
	}

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	scopes := append([]string(nil), cfg.Scopes...)
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}

	var parent http.RoundTripper = http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		parent = cfg.HTTPClient.Transport
	}
	clientOptions := msgraphgocore.GraphClientOptions{GraphServiceLibraryVersion: graphLibraryVersion}
	// The Graph defaults (telemetry + /users/me-token-to-replace → /me
	// rewrite) and kiota's defaults (retry, redirect, compression,
	// parameter-name decoding, user agent, headers inspection), plus our
	// per-call status recorder as the innermost handler so it sees every
	// attempt's response.
	middlewares := append(msgraphgocore.GetDefaultMiddlewaresWithOptions(&clientOptions), statusRecorder{})
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, middlewares...),
		// Redirects are followed by kiota's RedirectHandler, which drops
		// the Authorization header when the host or scheme changes.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	parseNodes := absser.NewParseNodeFactoryRegistry()
	parseNodes.ContentTypeAssociatedFactories["application/json"] = kjson.NewJsonParseNodeFactory()
	writers := absser.NewSerializationWriterFactoryRegistry()
	writers.ContentTypeAssociatedFactories["application/json"] = kjson.NewJsonSerializationWriterFactory()

	return &Service{
		baseURL: base,
		// Derived from BaseURL: kiota sends NO Authorization header, without
		// any error, to a host that is not on this list.
		validHosts:    []string{strings.ToLower(host)},
		scopes:        scopes,
		timeout:       timeout,
		httpClient:    httpClient,
		clientOptions: clientOptions,
		parseNodes:    parseNodes,
		writers:       writers,
		// "XXX" is kiota's catch-all key: any 4xx or 5xx status without a
		// mapping of its own (kiota also looks up "4XX" and "5XX", and the
		// exact code, first) is parsed as a Graph OData error, so callers
		// get *odataerrors.ODataError with Graph's code and message rather
		// than kiota's generic ApiError. This is what msgraph-sdk-go's
		// generated request builders pass for every request.
		errorMapping: abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue},
		options: []abs.RequestOption{&khttp.RetryHandlerOptions{
			ShouldRetry:  retryWithinDeadline,
			MaxRetries:   defaultMaxRetries,
			DelaySeconds: defaultRetryDelaySeconds,
		}},
	}, nil
}

// meQuery carries the $select query option of GET /me.
type meQuery struct {
	Select []string `uriparametername:"%24select"`
}

// Me returns the profile of the user that cred acts for (GET /me with
// $select=id,displayName,mail,userPrincipalName). The call, token
// acquisition included, is bounded by the Service's timeout.
//
// Every failure is an [*Error]; see [Kind] for the classification. A failure
// of cred.GetToken has Kind KindCredential and wraps the credential's own
// error, so errors.As finds it (for example *azidentity.AuthenticationFailedError).
//
// The request is built directly on the kiota adapter rather than through the
// msgraph-sdk-go users request builders: it is the same request the
// generated builder would send, without compiling the users package, and it
// targets /me directly. (The builder's raw-URL constructor,
// users.NewUserItemRequestBuilder(base+"/me", adapter), would silently drop
// $select, because kiota ignores query parameters when a raw URL is set.)
func (s *Service) Me(ctx context.Context, cred azcore.TokenCredential) (*User, error) {
	if cred == nil {
		return nil, &Error{Kind: KindCredential, Message: "no credential supplied"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	state := &callState{}
	ctx = context.WithValue(ctx, callStateKey{}, state)

	auth, err := msgraphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(guardedCredential{cred: cred}, s.scopes, s.validHosts)
	if err != nil {
		return nil, &Error{Kind: KindOther, Message: "creating the authentication provider", Err: err}
	}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, s.clientOptions, s.parseNodes, s.writers, s.httpClient)
	if err != nil {
		return nil, &Error{Kind: KindOther, Message: "creating the request adapter", Err: err}
	}
	adapter.SetBaseUrl(s.baseURL)

	req := abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.GET, meURLTemplate, map[string]string{})
	req.AddQueryParameters(meQuery{Select: []string{"id", "displayName", "mail", "userPrincipalName"}})
	req.Headers.TryAdd("Accept", "application/json")
	req.AddRequestOptions(s.options)

	res, err := adapter.Send(ctx, req, models.CreateUserFromDiscriminatorValue, s.errorMapping)
	if err != nil {
		return nil, classify(ctx, state, err)
	}
	u, ok := res.(models.Userable)
	if !ok || u == nil {
		return nil, &Error{Kind: KindBadResponse, Status: state.lastStatus(), Message: "Graph returned no user object"}
	}
	user := &User{
		ID:                deref(u.GetId()),
		DisplayName:       deref(u.GetDisplayName()),
		Mail:              deref(u.GetMail()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
	}
	if user.ID == "" {
		return nil, &Error{Kind: KindBadResponse, Status: state.lastStatus(), Message: "Graph returned a user without an id"}
	}
	return user, nil
}

// Client is a [Service] bound to one caller's credential.
type Client struct {
	svc  *Service
	cred azcore.TokenCredential
}

// NewClient builds a Service from cfg and binds it to cfg.Credential, which
// is required. Building a Service is cheap (no network, shared
// http.DefaultTransport unless cfg.HTTPClient is set), but a server handling
// many callers should build one Service and use [Service.Client] or
// [Service.Me] per caller.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Credential == nil {
		return nil, errors.New("graph: Config.Credential is required")
	}
	svc, err := NewService(cfg)
	if err != nil {
		return nil, err
	}
	return svc.Client(cfg.Credential), nil
}

// Client binds s to cred; it allocates nothing else.
func (s *Service) Client(cred azcore.TokenCredential) *Client {
	return &Client{svc: s, cred: cred}
}

// Me returns the signed-in user's profile; see [Service.Me].
func (c *Client) Me(ctx context.Context) (*User, error) {
	return c.svc.Me(ctx, c.cred)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func isLoopback(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

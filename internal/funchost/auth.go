package funchost

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// The host's key check for the custom handler's HTTP route, as the
// Functions host does it (sources: azure-functions-host
// CustomHandlerHttpOptions, AuthenticationLevelHandler, AuthUtility and
// FunctionInvocationMiddleware; Learn "Work with access keys in Azure
// Functions" and "Azure Functions HTTP trigger", Authorization level):
//
//   - the level is customHandler.http.DefaultAuthorizationLevel of
//     host.json, function when host.json sets none, and the app setting
//     AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel
//     overrides host.json;
//   - the key is the x-functions-key header, or the code query parameter
//     when there is no such header (the header wins, even when wrong);
//   - the function level accepts a function or host key and the master key,
//     the admin level the master key only ("admin: The master key is
//     required");
//   - a request without a key that passes gets 401 and an empty body (the
//     host's UnauthorizedResult), before it reaches the handler.
//
// The startup ping is the host talking to the handler on its own port, not
// a request through the host, so no key is involved.

// AuthLevel is the Functions host's authorization level for the custom
// handler's HTTP route.
type AuthLevel int

const (
	// Anonymous lets every request through. It is the zero value, so an
	// App built by hand checks no keys; ReadApp gives Function when
	// host.json sets no level, as the host does.
	Anonymous AuthLevel = iota
	// Function requires a function key or the master key; the host's
	// default (CustomHandlerHttpOptions.DefaultAuthorizationLevel).
	Function
	// Admin requires the master key.
	Admin
)

// String returns the level as host.json spells it: anonymous, function or
// admin.
func (l AuthLevel) String() string {
	switch l {
	case Anonymous:
		return "anonymous"
	case Function:
		return "function"
	case Admin:
		return "admin"
	}
	return fmt.Sprintf("AuthLevel(%d)", int(l))
}

// ParseAuthLevel reads anonymous, function or admin, in any case.
func ParseAuthLevel(s string) (AuthLevel, error) {
	for _, l := range []AuthLevel{Anonymous, Function, Admin} {
		if strings.EqualFold(strings.TrimSpace(s), l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("authorization level %q is not anonymous, function or admin", s)
}

// AuthLevelSetting is the app setting that overrides
// customHandler.http.DefaultAuthorizationLevel of host.json (an app
// setting AzureFunctionsJobHost__<path> overrides the host.json value at
// <path>).
const AuthLevelSetting = "AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel"

// hostJSONLevelFrom and defaultLevelFrom say where App.AuthLevel came from.
const (
	hostJSONLevelFrom = "host.json"
	defaultLevelFrom  = "the host's default (host.json sets no customHandler.http.DefaultAuthorizationLevel)"
)

// readAuthLevel reads customHandler.http.DefaultAuthorizationLevel, raw as
// host.json holds it: absent or null means the host's default, function.
func readAuthLevel(raw json.RawMessage) (AuthLevel, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return Function, defaultLevelFrom, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, "", fmt.Errorf("customHandler.http.DefaultAuthorizationLevel is %s, not a string such as \"function\"", raw)
	}
	l, err := ParseAuthLevel(s)
	if err != nil {
		return 0, "", fmt.Errorf("customHandler.http.DefaultAuthorizationLevel: %w", err)
	}
	return l, hostJSONLevelFrom, nil
}

// EffectiveAuthLevel returns the level the host applies to the app's
// requests, and where it comes from: the app setting AuthLevelSetting in
// env (os.Environ() when nil) when it is set and not empty, else
// App.AuthLevel. The setting's name is matched as .NET configuration reads
// environment variables: in any case, with "__" or ":" between its parts;
// the last one in env wins.
func (a App) EffectiveAuthLevel(env []string) (AuthLevel, string, error) {
	if env == nil {
		env = os.Environ()
	}
	want := strings.ReplaceAll(AuthLevelSetting, "__", ":")
	for i := len(env) - 1; i >= 0; i-- {
		k, v, ok := strings.Cut(env[i], "=")
		if !ok || v == "" || !strings.EqualFold(strings.ReplaceAll(k, "__", ":"), want) {
			continue
		}
		l, err := ParseAuthLevel(v)
		if err != nil {
			return 0, "", fmt.Errorf("the app setting %s: %w", k, err)
		}
		return l, "the app setting " + k, nil
	}
	from := a.authLevelFrom
	if from == "" {
		from = "App.AuthLevel"
	}
	return a.AuthLevel, from, nil
}

// Keys are the keys the host accepts.
type Keys struct {
	// Function is a function or host key: it passes the function level.
	Function string
	// Master is the master key (_master): it passes both levels, and is
	// the only key the admin level accepts.
	Master string
}

// errNoKey reports a level that needs a key Keys lacks.
var errNoKey = errors.New("no key for the host to accept")

// check fails when level requires a key and Keys has none that passes it.
func (k Keys) check(level AuthLevel) error {
	switch {
	case level == Function && k.Function == "" && k.Master == "":
		return fmt.Errorf("%w: the function level needs a function key or the master key (Config.Keys)", errNoKey)
	case level == Admin && k.Master == "":
		return fmt.Errorf("%w: the admin level needs the master key (Config.Keys.Master)", errNoKey)
	}
	return nil
}

// allows reports whether a request presenting key passes level.
func (k Keys) allows(level AuthLevel, key string) bool {
	switch level {
	case Anonymous:
		return true
	case Function:
		// Both comparisons run, so the time taken does not say which
		// key matched.
		fn, master := keyEqual(key, k.Function), keyEqual(key, k.Master)
		return fn || master
	case Admin:
		return keyEqual(key, k.Master)
	}
	return false
}

// keyEqual compares a presented key with a configured one in constant
// time; an empty key matches nothing. Comparing digests keeps the time
// independent of the lengths too.
func keyEqual(presented, want string) bool {
	if presented == "" || want == "" {
		return false
	}
	p, w := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(p[:], w[:]) == 1
}

// FunctionsKeyHeader and FunctionsKeyParam carry a request's key.
const (
	FunctionsKeyHeader = "x-functions-key"
	FunctionsKeyParam  = "code"
)

// requestKey returns the key a request presents: the first x-functions-key
// header when there is one (even empty), else the first code query
// parameter, as AuthenticationLevelHandler reads it.
func requestKey(r *http.Request) string {
	if v, ok := r.Header[http.CanonicalHeaderKey(FunctionsKeyHeader)]; ok && len(v) > 0 {
		return v[0]
	}
	return r.URL.Query().Get(FunctionsKeyParam)
}

// requireKey answers a request whose key does not pass level with 401 and
// an empty body, as the host's UnauthorizedResult does, and passes the
// others to next. The key is forwarded to the handler as it came, as the
// host's proxy copies every header and the query string.
func requireKey(level AuthLevel, keys Keys, next http.Handler) http.Handler {
	if level == Anonymous {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !keys.allows(level, requestKey(r)) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

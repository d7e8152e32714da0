package nws

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultCacheEntries is the response cache size ConfigFromEnv uses when
// NWS_CACHE_ENTRIES is unset.
const DefaultCacheEntries = 512

// Limits on environment values, to catch typos such as a missing unit.
const (
	maxCacheEntries = 1_000_000
	maxTimeout      = 5 * time.Minute
	maxUserAgentLen = 256
)

// ConfigFromEnv builds the NWS client configuration from environment
// variables read with getenv (typically os.Getenv):
//
//   - NWS_API_BASE_URL: API root, an absolute http(s) URL; default https://api.weather.gov
//   - NWS_USER_AGENT: User-Agent override; default DefaultUserAgent
//   - NWS_CACHE_ENTRIES: response cache size, 0 disables it; default 512
//   - NWS_TIMEOUT: per-attempt timeout, a Go duration such as 8s; default 8s
//
// Errors name the variable and its bad value.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		BaseURL:        DefaultBaseURL,
		UserAgent:      DefaultUserAgent,
		CacheEntries:   DefaultCacheEntries,
		RequestTimeout: DefaultRequestTimeout,
	}
	var errs []error
	if v := strings.TrimSpace(getenv("NWS_API_BASE_URL")); v != "" {
		if _, err := ParseBaseURL(v); err != nil {
			errs = append(errs, fmt.Errorf("NWS_API_BASE_URL: %w", err))
		} else {
			cfg.BaseURL = v
		}
	}
	if v := strings.TrimSpace(getenv("NWS_USER_AGENT")); v != "" {
		if err := checkUserAgent(v); err != nil {
			errs = append(errs, fmt.Errorf("NWS_USER_AGENT %q: %w", v, err))
		} else {
			cfg.UserAgent = v
		}
	}
	if v := strings.TrimSpace(getenv("NWS_CACHE_ENTRIES")); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("NWS_CACHE_ENTRIES %q: not an integer", v))
		case n < 0 || n > maxCacheEntries:
			errs = append(errs, fmt.Errorf("NWS_CACHE_ENTRIES %q: must be between 0 (cache off) and %d", v, maxCacheEntries))
		default:
			cfg.CacheEntries = n
		}
	}
	if v := strings.TrimSpace(getenv("NWS_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("NWS_TIMEOUT %q: not a Go duration such as 8s or 1500ms", v))
		case d <= 0 || d > maxTimeout:
			errs = append(errs, fmt.Errorf("NWS_TIMEOUT %q: must be positive and at most %s", v, maxTimeout))
		default:
			cfg.RequestTimeout = d
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// checkUserAgent accepts printable ASCII of a sensible length.
func checkUserAgent(v string) error {
	if len(v) > maxUserAgentLen {
		return fmt.Errorf("longer than %d bytes", maxUserAgentLen)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return errors.New("must be printable ASCII")
		}
	}
	return nil
}

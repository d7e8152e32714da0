package nws

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cacheEntry is a cached 200 body with its expiry time, and the values
// decoded from it.
type cacheEntry struct {
	body    []byte
	expires time.Time
	decoded *decodedValues
}

// decodedValues holds what a cached body decoded to, one value per Go
// type, so that callers of the typed methods ([Client.Alerts] and the
// others) decode a cached answer once rather than on every call. The
// values are shared: nothing may modify them.
type decodedValues struct {
	mu     sync.Mutex
	byType map[reflect.Type]any
}

// load returns the value decoded for t, if any.
func (d *decodedValues) load(t reflect.Type) (any, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.byType[t]
	return v, ok
}

// loadOrStore keeps v for t unless a value is there already, and returns
// the value kept, so that concurrent decoders end up sharing one.
func (d *decodedValues) loadOrStore(t reflect.Type, v any) any {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.byType[t]; ok {
		return old
	}
	if d.byType == nil {
		d.byType = make(map[reflect.Type]any, 1)
	}
	d.byType[t] = v
	return v
}

// cached returns the unexpired cache entry for key, removing an expired
// one.
func (c *Client) cached(key string) (cacheEntry, bool) {
	if c.cache == nil {
		return cacheEntry{}, false
	}
	e, ok := c.cache.Get(key)
	if !ok {
		return cacheEntry{}, false
	}
	if !c.now().Before(e.expires) {
		c.cache.Remove(key)
		return cacheEntry{}, false
	}
	return e, true
}

// store caches a 200 answer if its headers allow it.
func (c *Client) store(key string, r *response) {
	if c.cache == nil || len(r.body) > maxCachedBodyBytes {
		return
	}
	ttl, ok := freshness(r.header)
	if !ok {
		return
	}
	c.cache.Add(key, cacheEntry{body: r.body, expires: c.now().Add(ttl), decoded: &decodedValues{}})
}

// freshness returns how long a response may be served from the cache,
// from Cache-Control (s-maxage preferred over max-age) minus Age. Responses
// without Cache-Control, or marked no-store, no-cache or private, are not
// cacheable.
func freshness(h http.Header) (time.Duration, bool) {
	values := h.Values("Cache-Control")
	if len(values) == 0 {
		return 0, false
	}
	maxAge, sMaxAge := -1, -1
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
			arg = strings.Trim(strings.TrimSpace(arg), `"`)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache", "private":
				return 0, false
			case "max-age":
				if n, ok := deltaSeconds(arg); ok {
					maxAge = n
				} else {
					return 0, false
				}
			case "s-maxage":
				if n, ok := deltaSeconds(arg); ok {
					sMaxAge = n
				} else {
					return 0, false
				}
			}
		}
	}
	lifetime := maxAge
	if sMaxAge >= 0 {
		lifetime = sMaxAge
	}
	if lifetime <= 0 {
		return 0, false
	}
	if age := strings.TrimSpace(h.Get("Age")); age != "" {
		n, ok := deltaSeconds(age)
		if !ok {
			return 0, false
		}
		lifetime -= n
	}
	if lifetime <= 0 {
		return 0, false
	}
	return time.Duration(lifetime) * time.Second, true
}

// deltaSeconds parses a non-negative integer number of seconds, saturating
// at one year.
func deltaSeconds(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil { // overflow
		return 365 * 24 * 3600, true
	}
	return min(n, 365*24*3600), true
}

package nws

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// cacheEntry is a cached 200 body with its expiry time, and the values
// decoded from it.
type cacheEntry struct {
	body    []byte
	expires time.Time
	decoded *decodedValues
	cost    int64 // what the entry counts against the byte budget
}

// entryOverhead is what an entry is charged beyond its key and body: the
// list element, map slot and decoded values' headers, roughly.
const entryOverhead = 512

// entryCost estimates the memory an entry holds: its key, its body, and a
// decoded copy about the size of the body (the typed methods keep one per
// entry; a decoded NWS answer holds about as many string bytes as its
// JSON).
func entryCost(key string, body []byte) int64 {
	return int64(len(key)) + 2*int64(len(body)) + entryOverhead
}

// byteCache is an LRU cache bounded both by entry count and by the total
// cost of its entries. It is safe for concurrent use.
type byteCache struct {
	mu        sync.Mutex
	lru       *simplelru.LRU[string, cacheEntry]
	maxBytes  int64
	bytes     int64 // total cost of the entries held
	evictions int64 // entries evicted for room, since creation
}

func newByteCache(entries int, maxBytes int64) (*byteCache, error) {
	c := &byteCache{maxBytes: maxBytes}
	var err error
	// The callback runs under c.mu: every call into the LRU holds it.
	c.lru, err = simplelru.NewLRU(entries, func(_ string, e cacheEntry) { c.bytes -= e.cost })
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Get returns the entry for key and marks it most recently used.
func (c *byteCache) Get(key string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// Remove drops the entry for key, if any.
func (c *byteCache) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}

// Len returns the number of entries.
func (c *byteCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Add stores e under key, first evicting least recently used entries until
// it fits both bounds, and reports what was evicted. The caller has checked
// that e.cost is within the budget.
func (c *byteCache) Add(key string, e cacheEntry) (evicted int, freed int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key) // a replaced entry is not an eviction
	before := c.bytes
	for c.lru.Len() > 0 && c.bytes+e.cost > c.maxBytes {
		c.lru.RemoveOldest()
		evicted++
	}
	if c.lru.Add(key, e) { // over the entry count
		evicted++
	}
	freed = before - c.bytes
	c.bytes += e.cost
	c.evictions += int64(evicted)
	return evicted, freed
}

// CacheStats describes the response cache of a [Client].
type CacheStats struct {
	Entries   int   // responses held
	Bytes     int64 // their estimated cost: key, body and decoded copy
	MaxBytes  int64 // the byte budget
	Evictions int64 // responses evicted for room since the client was made
}

// CacheStats returns the cache's current size; the zero value when caching
// is off.
func (c *Client) CacheStats() CacheStats {
	if c.cache == nil {
		return CacheStats{}
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return CacheStats{Entries: c.cache.lru.Len(), Bytes: c.cache.bytes, MaxBytes: c.cache.maxBytes, Evictions: c.cache.evictions}
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

// store caches a 200 answer if its headers allow it and it is within the
// per-entry cap and the byte budget; evictions are logged at debug level.
func (c *Client) store(key string, r *response) {
	if c.cache == nil {
		return
	}
	ttl, ok := freshness(r.header)
	if !ok {
		return
	}
	cost := entryCost(key, r.body)
	if len(r.body) > maxCachedBodyBytes || cost > c.cache.maxBytes {
		c.log.Debug("nws: answer not cached: too large", "bytes", len(r.body), "max_body_bytes", maxCachedBodyBytes, "cache_max_bytes", c.cache.maxBytes)
		return
	}
	evicted, freed := c.cache.Add(key, cacheEntry{body: r.body, expires: c.now().Add(ttl), decoded: &decodedValues{}, cost: cost})
	if evicted > 0 && c.log.Enabled(context.Background(), slog.LevelDebug) {
		st := c.CacheStats()
		c.log.Debug("nws: cache evicted", "evicted", evicted, "freed_bytes", freed,
			"entries", st.Entries, "bytes", st.Bytes, "max_bytes", st.MaxBytes, "evictions_total", st.Evictions)
	}
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

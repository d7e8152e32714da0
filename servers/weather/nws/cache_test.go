package nws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfunc/mcpfunc/servers/weather/nws/nwstest"
)

func TestFreshness(t *testing.T) {
	tests := []struct {
		cc, age string
		want    time.Duration
		ok      bool
	}{
		{"public, max-age=300", "", 300 * time.Second, true},
		{"public, max-age=300, s-maxage=60", "", 60 * time.Second, true},
		{"s-maxage=60, max-age=300", "", 60 * time.Second, true},
		{`max-age="120"`, "", 120 * time.Second, true},
		{"Max-Age=30", "", 30 * time.Second, true},
		{"public, max-age=300", "100", 200 * time.Second, true},
		{"public, max-age=300", "300", 0, false},
		{"public, max-age=300", "400", 0, false},
		{"public, max-age=300", "bogus", 0, false},
		{"", "", 0, false},
		{"public", "", 0, false},
		{"max-age=0", "", 0, false},
		{"max-age=-5", "", 0, false},
		{"max-age=abc", "", 0, false},
		{"no-store, max-age=300", "", 0, false},
		{"no-cache, max-age=300", "", 0, false},
		{"private, max-age=300", "", 0, false},
		{"max-age=99999999999999999999", "", 365 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.cc != "" {
			h.Set("Cache-Control", tt.cc)
		}
		if tt.age != "" {
			h.Set("Age", tt.age)
		}
		got, ok := freshness(h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("freshness(Cache-Control %q, Age %q) = %v, %v; want %v, %v", tt.cc, tt.age, got, ok, tt.want, tt.ok)
		}
	}
}

// cachingUpstream answers every path with the given Cache-Control and Age,
// and a body naming the path and the request number.
func cachingUpstream(t *testing.T, cacheControl, age string, status int) *upstream {
	var n atomic.Int64
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		if age != "" {
			w.Header().Set("Age", age)
		}
		if status != 200 {
			writeProblem(w, status, http.StatusText(status), "")
			return
		}
		writeJSON(w, status, `{"name":"`+r.URL.Path+`#`+string(rune('0'+i%10))+`"}`)
	})
}

func TestCache(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		age          string
		advance      time.Duration // clock advance between the two calls
		wantRequests int
	}{
		{"max-age respected", "public, max-age=60", "", 59 * time.Second, 1},
		{"expired after max-age", "public, max-age=60", "", 61 * time.Second, 2},
		{"expired exactly at max-age", "public, max-age=60", "", 60 * time.Second, 2},
		{"s-maxage preferred", "public, max-age=600, s-maxage=30", "", 31 * time.Second, 2},
		{"Age subtracted, fresh", "public, max-age=60", "50", 9 * time.Second, 1},
		{"Age subtracted, stale", "public, max-age=60", "50", 11 * time.Second, 2},
		{"no-store not cached", "no-store", "", 0, 2},
		{"no-store with max-age not cached", "no-store, max-age=60", "", 0, 2},
		{"no-cache not cached", "no-cache, max-age=60", "", 0, 2},
		{"private not cached", "private, max-age=60", "", 0, 2},
		{"no Cache-Control not cached", "", "", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := cachingUpstream(t, tt.cacheControl, tt.age, 200)
			clock := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
			c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 8; c.Now = clock.Now })
			var first, second doc
			if err := c.GetJSON(t.Context(), "/alerts/active/area/CA", &first); err != nil {
				t.Fatal(err)
			}
			clock.Add(tt.advance)
			if err := c.GetJSON(t.Context(), "/alerts/active/area/CA", &second); err != nil {
				t.Fatal(err)
			}
			if up.requests() != tt.wantRequests {
				t.Errorf("upstream requests = %d, want %d", up.requests(), tt.wantRequests)
			}
			if (first == second) != (tt.wantRequests == 1) {
				t.Errorf("first %q second %q", first.Name, second.Name)
			}
		})
	}
}

func TestCacheExpiredEntryRemoved(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/short" {
			w.Header().Set("Cache-Control", "max-age=10")
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		writeJSON(w, 200, `{"name":"x"}`)
	})
	clock := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 8; c.Now = clock.Now })
	if err := c.GetJSON(t.Context(), "/short", &doc{}); err != nil {
		t.Fatal(err)
	}
	if c.cache.Len() != 1 {
		t.Fatalf("cache len %d, want 1", c.cache.Len())
	}
	clock.Add(11 * time.Second)
	if _, ok := c.cached(up.srv.URL + "/short"); ok {
		t.Fatal("expired entry served")
	}
	if c.cache.Len() != 0 {
		t.Errorf("expired entry not removed (len %d)", c.cache.Len())
	}
}

func TestCacheOnlyOK(t *testing.T) {
	up := cachingUpstream(t, "public, max-age=60", "", 404)
	c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 8 })
	for range 2 {
		if err := c.GetJSON(t.Context(), "/points/51.5,-0.1276", &doc{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("error %v, want ErrNotFound", err)
		}
	}
	if up.requests() != 2 {
		t.Errorf("upstream requests = %d, want 2 (404s are not cached)", up.requests())
	}
}

func TestCacheLRUBound(t *testing.T) {
	up := cachingUpstream(t, "public, max-age=600", "", 200)
	c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 2 })
	get := func(p string) {
		t.Helper()
		if err := c.GetJSON(t.Context(), p, &doc{}); err != nil {
			t.Fatal(err)
		}
	}
	get("/a")
	get("/b")
	get("/a") // cached; /a becomes most recent
	get("/c") // evicts /b
	if up.requests() != 3 {
		t.Fatalf("upstream requests = %d, want 3", up.requests())
	}
	if c.cache.Len() != 2 {
		t.Errorf("cache len %d, want 2", c.cache.Len())
	}
	get("/a") // still cached
	get("/b") // evicted: fetched again
	if up.requests() != 4 {
		t.Errorf("upstream requests = %d, want 4", up.requests())
	}
}

func TestCacheOff(t *testing.T) {
	up := cachingUpstream(t, "public, max-age=600", "", 200)
	c := newClient(t, up.srv.URL, nil)
	for range 3 {
		if err := c.GetJSON(t.Context(), "/a", &doc{}); err != nil {
			t.Fatal(err)
		}
	}
	if up.requests() != 3 {
		t.Errorf("upstream requests = %d, want 3 with the cache off", up.requests())
	}
}

func TestSingleflight(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		writeJSON(w, 200, `{"name":"shared"}`)
	})
	c := newClient(t, up.srv.URL, nil) // cache off: only singleflight collapses

	const callers = 50
	var (
		wg      sync.WaitGroup
		okCount atomic.Int64
		started sync.WaitGroup
	)
	started.Add(callers)
	for range callers {
		wg.Go(func() {
			started.Done()
			var d doc
			if err := c.GetJSON(t.Context(), "/alerts/active/area/TX", &d); err != nil {
				t.Errorf("GetJSON: %v", err)
				return
			}
			if d.Name == "shared" {
				okCount.Add(1)
			}
		})
	}
	started.Wait()
	<-arrived // the single flight has reached the upstream

	// A caller whose context is cancelled returns promptly, while the
	// shared request carries on for the others.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.GetJSON(ctx, "/alerts/active/area/TX", &doc{}) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: error %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled caller did not return")
	}

	// Release the upstream once every caller has joined the flight.
	waitUntil(t, func() bool { return c.waiting.Load() == callers })
	close(release)
	wg.Wait()
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1", up.requests())
	}
	if okCount.Load() != callers {
		t.Errorf("%d callers got the result, want %d", okCount.Load(), callers)
	}
}

// The shared request is not cancelled when the caller that started it
// gives up.
func TestSingleflightSurvivesFirstCaller(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		writeJSON(w, 200, `{"name":"shared"}`)
	})
	c := newClient(t, up.srv.URL, nil)

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { first <- c.GetJSON(ctx, "/x", &doc{}) }()
	<-arrived
	second := make(chan error, 1)
	var d doc
	go func() { second <- c.GetJSON(t.Context(), "/x", &d) }()
	waitUntil(t, func() bool { return c.waiting.Load() == 2 })
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: %v", err)
	}
	close(release)
	if err := <-second; err != nil || d.Name != "shared" {
		t.Errorf("second caller: %+v, %v", d, err)
	}
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1", up.requests())
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDecodedOnce: while an answer is cached, the typed methods decode it
// once and share the value; a new answer (expired, or not cacheable) is
// decoded afresh.
func TestDecodedOnce(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		advance      time.Duration
		wantShared   bool
		wantRequests int
	}{
		{"cached: decoded once", "public, max-age=60", 10 * time.Second, true, 1},
		{"expired: decoded again", "public, max-age=60", 61 * time.Second, false, 2},
		{"not cacheable: decoded per call", "no-store", 0, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := cachingUpstream(t, tt.cacheControl, "", 200)
			clock := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
			c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 8; c.Now = clock.Now })
			// The first call fetches; the second is the first cache hit,
			// which decodes and keeps the value; the third reuses it.
			var got [3]*AlertCollection
			for i := range got {
				if i == 2 {
					clock.Add(tt.advance)
				}
				ac, err := c.Alerts(t.Context(), "CA")
				if err != nil {
					t.Fatal(err)
				}
				got[i] = ac
			}
			if shared := got[1] == got[2]; shared != tt.wantShared {
				t.Errorf("second and third call share a value: %v, want %v", shared, tt.wantShared)
			}
			if got[0] == got[1] {
				t.Error("the fetched answer's value is shared with the first cache hit; only cache hits share")
			}
			if up.requests() != tt.wantRequests {
				t.Errorf("upstream requests = %d, want %d", up.requests(), tt.wantRequests)
			}
		})
	}

	// Concurrent first hits end up sharing one value, and GetJSON still
	// decodes into the caller's own value.
	up := cachingUpstream(t, "public, max-age=60", "", 200)
	c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 8 })
	if _, err := c.Point(t.Context(), 39.7456, -97.0892); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	points := make([]*Point, 8)
	for i := range points {
		wg.Go(func() {
			p, err := c.Point(t.Context(), 39.7456, -97.0892)
			if err != nil {
				t.Error(err)
			}
			points[i] = p
		})
	}
	wg.Wait()
	again, _ := c.Point(t.Context(), 39.7456, -97.0892)
	for i, p := range points {
		if p != again {
			t.Errorf("concurrent call %d got its own value, not the kept one", i)
		}
	}
	var own doc
	if err := c.GetJSON(t.Context(), "/points/39.7456,-97.0892", &own); err != nil || own.Name == "" {
		t.Errorf("GetJSON after the typed calls: %+v, %v", own, err)
	}
	if up.requests() != 1 {
		t.Errorf("upstream requests = %d, want 1", up.requests())
	}
}

// BenchmarkCachedAlerts compares a cache hit through Alerts (decoded once,
// shared) with the same hit decoded on every call, as GetJSON does, on
// the 10.7 KB California alerts document.
func BenchmarkCachedAlerts(b *testing.B) {
	srv := nwstest.Start(b, nwstest.Config{MaxAge: time.Hour})
	c, err := New(Config{BaseURL: srv.URL, CacheEntries: 8})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Alerts(ctx, "CA"); err != nil {
		b.Fatal(err)
	}
	b.Run("decoded once", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ac, err := c.Alerts(ctx, "CA"); err != nil || len(ac.Features) == 0 {
				b.Fatal(ac, err)
			}
		}
	})
	b.Run("decoded per call (baseline)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ac AlertCollection
			if err := c.GetJSON(ctx, "/alerts/active/area/CA", &ac); err != nil || len(ac.Features) == 0 {
				b.Fatal(ac, err)
			}
		}
	})
}

// TestCacheByteBudget: the cache is bounded in bytes as well as entries.
// An answer over the per-entry cap is served but not kept; many answers
// under it evict the least recently used ones once the budget is spent,
// and each eviction is counted in the debug log. A misbehaving upstream
// answering 2 MB with max-age=3600 for every point used to grow the cache
// by 2 MB plus a decoded copy per point, up to 512 of them.
func TestCacheByteBudget(t *testing.T) {
	body := func(n int) string { return `{"name":"` + strings.Repeat("x", n) + `"}` }
	tests := []struct {
		name         string
		size         int // body bytes of every answer
		paths        int // distinct paths fetched in turn
		wantRefetch  bool
		wantEvicted  bool
		wantRequests int // after fetching every path, then the first again
	}{
		{name: "2 MB answers are not cached", size: 2_000_000, paths: 3, wantRefetch: true, wantRequests: 4},
		{name: "answers just over the per-entry cap are not cached", size: 600 << 10, paths: 2, wantRefetch: true, wantRequests: 3},
		{name: "small answers stay cached", size: 1 << 10, paths: 50, wantRequests: 50},
		{name: "many mid-size answers evict the oldest", size: 400 << 10, paths: 100, wantRefetch: true, wantEvicted: true, wantRequests: 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body(tt.size)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "public, max-age=3600")
				writeJSON(w, 200, b)
			})
			logs := &syncBuffer{}
			logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 512; c.Logger = logger })
			for i := range tt.paths {
				if err := c.GetJSON(t.Context(), fmt.Sprintf("/points/%d,0", i), &doc{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.GetJSON(t.Context(), "/points/0,0", &doc{}); err != nil {
				t.Fatal(err)
			}
			if up.requests() != tt.wantRequests {
				t.Errorf("upstream requests = %d, want %d (first path fetched again: %v)", up.requests(), tt.wantRequests, tt.wantRefetch)
			}
			if got := strings.Contains(logs.String(), "nws: cache evicted"); got != tt.wantEvicted {
				t.Errorf("eviction logged = %v, want %v:\n%.2000s", got, tt.wantEvicted, logs.String())
			}
			st := c.CacheStats()
			if st.MaxBytes != DefaultCacheMaxBytes || st.Bytes > st.MaxBytes || (st.Evictions > 0) != tt.wantEvicted {
				t.Errorf("cache stats %+v: want bytes within the %d budget, evictions %v", st, DefaultCacheMaxBytes, tt.wantEvicted)
			}
			var held int64
			for _, k := range c.cache.lru.Keys() {
				e, _ := c.cache.lru.Peek(k)
				held += e.cost
			}
			if held != st.Bytes {
				t.Errorf("accounted %d bytes, entries cost %d", st.Bytes, held)
			}
		})
	}
}

// TestCacheAccounting: replacing, expiring and evicting by count keep the
// byte total equal to the entries' costs; a budget smaller than one entry
// caches nothing.
func TestCacheAccounting(t *testing.T) {
	up := cachingUpstream(t, "public, max-age=10", "", 200)
	clock := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	c := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 2; c.Now = clock.Now })
	for _, p := range []string{"/a", "/b", "/c"} { // /c evicts /a by count
		if err := c.GetJSON(t.Context(), p, &doc{}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.CacheStats()
	one := entryCost(up.srv.URL+"/a", []byte(`{"name":"/a#1"}`)) // every path here has 2 bytes
	if st.Entries != 2 || st.Bytes != 2*one || st.Evictions != 1 {
		t.Errorf("after 3 answers in 2 entries: %+v, want 2 entries of %d bytes and 1 eviction", st, one)
	}
	clock.Add(11 * time.Second)
	if err := c.GetJSON(t.Context(), "/b", &doc{}); err != nil { // expired: fetched and replaced
		t.Fatal(err)
	}
	c.cached(up.srv.URL + "/c") // expired: removed
	if st := c.CacheStats(); st.Entries != 1 || st.Bytes != one || st.Evictions != 1 {
		t.Errorf("after expiry: %+v, want 1 entry of %d bytes and still 1 eviction", st, one)
	}

	tiny := newClient(t, up.srv.URL, func(c *Config) { c.CacheEntries = 8; c.CacheMaxBytes = 100 })
	for range 2 {
		if err := tiny.GetJSON(t.Context(), "/a", &doc{}); err != nil {
			t.Fatal(err)
		}
	}
	if st := tiny.CacheStats(); st.Entries != 0 || st.Bytes != 0 {
		t.Errorf("100-byte budget: %+v, want nothing cached", st)
	}
	if _, err := New(Config{CacheEntries: 1, CacheMaxBytes: -1}); err == nil {
		t.Error("negative CacheMaxBytes accepted")
	}
}

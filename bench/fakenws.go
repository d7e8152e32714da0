package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// fakeNWS serves the weather tools' test fixtures on a loopback port, with
// {{BASE}} replaced by its own URL, and counts the requests it gets.
type fakeNWS struct {
	srv   *httptest.Server
	hits  atomic.Int64
	conns atomic.Int64 // connections accepted
}

// fakeRoutes maps API paths to fixture files.
var fakeRoutes = map[string]string{
	"/alerts/active/area/CA":         "alerts_CA.json",
	"/points/39.7456,-97.0892":       "points_39.7456_-97.0892.json",
	"/gridpoints/TOP/32,81/forecast": "forecast_TOP_32_81.json",
}

func startFakeNWS(testdata string) (*fakeNWS, error) {
	f := &fakeNWS{}
	f.srv = httptest.NewUnstartedServer(nil) // listens on 127.0.0.1
	base := "http://" + f.srv.Listener.Addr().String()
	bodies := map[string][]byte{}
	for path, file := range fakeRoutes {
		b, err := os.ReadFile(filepath.Join(testdata, file))
		if err != nil {
			f.srv.Close()
			return nil, fmt.Errorf("fake NWS fixture: %w (run the bench from the repository root)", err)
		}
		bodies[path] = []byte(strings.ReplaceAll(string(b), "{{BASE}}", base))
	}
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		body, ok := bodies[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"title":"Not Found","status":404,"detail":"'%s' is not a fixture of the bench"}`, r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Cache-Control", "public, max-age=30")
		w.Write(body)
	})
	f.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	return f, nil
}

func (f *fakeNWS) url() string        { return f.srv.URL }
func (f *fakeNWS) requests() int64    { return f.hits.Load() }
func (f *fakeNWS) connections() int64 { return f.conns.Load() }
func (f *fakeNWS) close()             { f.srv.Close() }

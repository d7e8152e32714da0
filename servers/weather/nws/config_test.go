package nws

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // substrings of the error
	}{
		{
			name: "defaults",
			want: Config{BaseURL: "https://api.weather.gov", UserAgent: DefaultUserAgent, CacheEntries: 512, RequestTimeout: 8 * time.Second},
		},
		{
			name: "overrides",
			env: map[string]string{
				"NWS_API_BASE_URL":  "http://127.0.0.1:8080/nws",
				"NWS_USER_AGENT":    "(example.com, ops@example.com)",
				"NWS_CACHE_ENTRIES": "0",
				"NWS_TIMEOUT":       "1500ms",
			},
			want: Config{BaseURL: "http://127.0.0.1:8080/nws", UserAgent: "(example.com, ops@example.com)", CacheEntries: 0, RequestTimeout: 1500 * time.Millisecond},
		},
		{name: "bad base URL", env: map[string]string{"NWS_API_BASE_URL": "api.weather.gov"}, wantErr: []string{"NWS_API_BASE_URL", `"api.weather.gov"`}},
		{name: "ftp base URL", env: map[string]string{"NWS_API_BASE_URL": "ftp://example.com"}, wantErr: []string{"NWS_API_BASE_URL", `"ftp://example.com"`}},
		{name: "cache not a number", env: map[string]string{"NWS_CACHE_ENTRIES": "lots"}, wantErr: []string{"NWS_CACHE_ENTRIES", `"lots"`}},
		{name: "cache negative", env: map[string]string{"NWS_CACHE_ENTRIES": "-1"}, wantErr: []string{"NWS_CACHE_ENTRIES", `"-1"`}},
		{name: "timeout without unit", env: map[string]string{"NWS_TIMEOUT": "8"}, wantErr: []string{"NWS_TIMEOUT", `"8"`}},
		{name: "timeout zero", env: map[string]string{"NWS_TIMEOUT": "0s"}, wantErr: []string{"NWS_TIMEOUT", `"0s"`}},
		{name: "timeout negative", env: map[string]string{"NWS_TIMEOUT": "-2s"}, wantErr: []string{"NWS_TIMEOUT", `"-2s"`}},
		{name: "user agent with newline", env: map[string]string{"NWS_USER_AGENT": "a\nX-Evil: 1"}, wantErr: []string{"NWS_USER_AGENT"}},
		{
			name:    "several errors",
			env:     map[string]string{"NWS_TIMEOUT": "soon", "NWS_CACHE_ENTRIES": "x"},
			wantErr: []string{"NWS_TIMEOUT", `"soon"`, "NWS_CACHE_ENTRIES", `"x"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, config %+v", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.BaseURL != tt.want.BaseURL || got.UserAgent != tt.want.UserAgent ||
				got.CacheEntries != tt.want.CacheEntries || got.RequestTimeout != tt.want.RequestTimeout {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if _, err := New(got); err != nil {
				t.Errorf("nws.New: %v", err)
			}
		})
	}
}

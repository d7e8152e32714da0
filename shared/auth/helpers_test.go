package auth

import "strings"

// containsAny reports whether s contains any non-empty needle.
func containsAny(s string, needles ...string) bool {
	for _, n := range needles {
		if n != "" && strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// envMap returns a getenv over m.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

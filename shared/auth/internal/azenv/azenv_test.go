package azenv

import "testing"

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:7071": true, "127.0.0.1": true, "127.0.0.2:80": true, "[::1]:8080": true, "::1": true,
		"127.evil.example": false, "localhost.evil.example": false, "app.azurewebsites.net": false, "10.0.0.1": false, "": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

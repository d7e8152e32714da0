// Command fixedport is a custom handler written the way many servers are:
// it listens on a port of its own on all interfaces, ignores
// FUNCTIONS_CUSTOMHANDLER_PORT and leaves SIGINT to Go's default (it dies
// of it). Its port is the customHandler.port of the host.json next to it,
// which stands for a port hard-coded to match host.json (the test picks a
// free one). Every path answers with what the request looked like, so the
// test can see the host's headers.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

func main() {
	b, err := os.ReadFile("host.json")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixedport:", err)
		os.Exit(1)
	}
	var hj struct {
		CustomHandler struct {
			Port string `json:"port"`
		} `json:"customHandler"`
	}
	if err := json.Unmarshal(b, &hj); err != nil {
		fmt.Fprintln(os.Stderr, "fixedport:", err)
		os.Exit(1)
	}
	fmt.Println("fixedport: listening on :" + hj.CustomHandler.Port)
	fmt.Fprintln(os.Stderr, "fixedport: a line on stderr")
	err = http.ListenAndServe(":"+hj.CustomHandler.Port, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"host": r.Host, "path": r.URL.Path, "headers": r.Header})
	}))
	fmt.Fprintln(os.Stderr, "fixedport:", err)
	os.Exit(1)
}

// Command nethttp is the floor of HTTP itself for the bench (go tool mage
// bench): a bare net/http handler that reads each POST /mcp body and answers
// with the same canned JSON-RPC tools/call result, NETHTTP_RESPONSE_BYTES
// long (default 4700). It listens on 127.0.0.1:FUNCTIONS_CUSTOMHANDLER_PORT
// (default 8080).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func main() {
	size := 4700
	if v := os.Getenv("NETHTTP_RESPONSE_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<20 {
			log.Fatalf("NETHTTP_RESPONSE_BYTES=%q: want a number of bytes up to 1 MiB", v)
		}
		size = n
	}
	answer := cannedAnswer(size)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /mcp", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	log.Fatal(http.ListenAndServe(net.JoinHostPort("127.0.0.1", port), mux))
}

// cannedAnswer is a successful tools/call answer padded to about size bytes.
func cannedAnswer(size int) []byte {
	frame := func(text string) []byte {
		b, err := json.Marshal(map[string]any{
			"jsonrpc": "2.0",
			"id":      1,
			"result": map[string]any{
				"content": []map[string]string{{"type": "text", "text": text}},
			},
		})
		if err != nil {
			panic(fmt.Sprint("canned answer: ", err))
		}
		return b
	}
	pad := max(size-len(frame("")), 0)
	return frame(strings.Repeat("x", pad))
}

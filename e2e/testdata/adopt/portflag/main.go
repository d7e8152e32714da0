// Command portflag takes its port from a -port flag and ignores
// FUNCTIONS_CUSTOMHANDLER_PORT.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string `json:"text"`
}

func main() {
	port := flag.String("port", "18402", "port to listen on")
	flag.Parse()
	s := mcp.NewServer(&mcp.Implementation{Name: "portflag", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
	log.SetOutput(os.Stdout)
	log.Printf("portflag listening on 127.0.0.1:%s", *port)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+*port, mux))
}

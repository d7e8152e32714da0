// Command mcpgo is built on github.com/mark3labs/mcp-go: stateless
// streamable HTTP on FUNCTIONS_CUSTOMHANDLER_PORT.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	s := server.NewMCPServer("mcpgo", "1.0.0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("echo", mcp.WithDescription("Echo the text back."), mcp.WithString("text", mcp.Required())),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			text, err := req.RequireString("text")
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultText(text), nil
		})
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	fmt.Printf("mcpgo listening on 127.0.0.1:%s\n", port)
	if err := server.NewStreamableHTTPServer(s, server.WithStateLess(true)).Start("127.0.0.1:" + port); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}

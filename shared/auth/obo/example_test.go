package obo_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/mcpfunc/mcpfunc/shared/auth/obo"
)

// ConfigFromEnv says what is missing when On-Behalf-Of is not configured,
// so that a server can start anyway and explain it; New builds the
// exchanger without a network request.
func ExampleConfigFromEnv() {
	_, err := obo.ConfigFromEnv(func(string) string { return "" })
	var nc *obo.NotConfiguredError
	if errors.As(err, &nc) {
		fmt.Println("missing:", nc.Missing)
	}

	local := map[string]string{ // os.Getenv in a server
		"AZURE_TENANT_ID":     "contoso.onmicrosoft.com",
		"AZURE_CLIENT_ID":     "11111111-2222-3333-4444-555555555555",
		"AZURE_CLIENT_SECRET": "never printed",
	}
	cfg, err := obo.ConfigFromEnv(func(k string) string { return local[k] })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg)
	x, err := obo.New(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	// A tool then calls x.Token(ctx, callerToken,
	// "https://graph.microsoft.com/.default") with the token the MCP
	// endpoint verified.
	_ = x
	// Output:
	// missing: [AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH]
	// mode=client-secret tenant=contoso.onmicrosoft.com client_id=11111111-2222-3333-4444-555555555555 client_secret=[redacted] authority=https://login.microsoftonline.com
}

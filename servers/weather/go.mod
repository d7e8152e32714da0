module github.com/mcpfunc/mcpfunc/servers/weather

go 1.26.0

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/modelcontextprotocol/go-sdk v1.8.0
	golang.org/x/sync v0.25.0
)

require (
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
)

require (
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/mcpfunc/mcpfunc/shared/auth v0.0.0
	github.com/mcpfunc/mcpfunc/shared/hosting v0.0.0
	github.com/segmentio/asm v1.1.3 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/mcpfunc/mcpfunc/shared/hosting => ../../shared/hosting

replace github.com/mcpfunc/mcpfunc/shared/auth => ../../shared/auth

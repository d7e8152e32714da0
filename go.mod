module github.com/mcpfunc/mcpfunc

go 1.26.0

tool github.com/magefile/mage

require (
	github.com/magefile/mage v1.17.2
	github.com/mcpfunc/mcpfunc/servers/weather v0.0.0
	github.com/mcpfunc/mcpfunc/shared/hosting v0.0.0
	github.com/modelcontextprotocol/go-sdk v1.8.0
	golang.org/x/sync v0.25.0
)

require (
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/segmentio/asm v1.1.3 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	golang.org/x/oauth2 v0.35.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

// The bench (bench/) imports the weather tools and shared/hosting; these
// make the root module build and tidy on its own (GOWORK=off) too.
replace (
	github.com/mcpfunc/mcpfunc/servers/weather => ./servers/weather
	github.com/mcpfunc/mcpfunc/shared/hosting => ./shared/hosting
)

package obo

import (
	"testing"

	"github.com/mcpfunc/mcpfunc/shared/auth/authtest"
)

// The fake Entra authority and managed identity endpoint are authtest's;
// these are the tenant, app and scope the tests here give them.
const (
	testTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testClientID = "app-client-id"
	graphScope   = "https://graph.microsoft.com/.default"
)

// newFakeEntra starts a fake authority for testTenant whose token endpoint
// accepts On-Behalf-Of requests from testClientID for Graph.
func newFakeEntra(t *testing.T) *authtest.Entra {
	t.Helper()
	fe := authtest.NewEntra(t, testTenant, testClientID)
	fe.ExpectScope(graphScope)
	return fe
}

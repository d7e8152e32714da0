// Each line marked `want: <rule>` must be reported, and nothing else.
extension microsoftGraphV1

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = { // want: existing-api-version
  name: 'stmcp'
}

resource vault 'Microsoft.KeyVault/vaults@2024-12-01-preview' existing = { // want: existing-api-version
  name: 'kv-mcp'
}

resource insights 'Microsoft.Insights/components@2020-2-02' existing = { // want: existing-api-version
  name: 'appi-mcp'
}

resource site 'Microsoft.Web/sites@2023-13-01' existing = { // want: existing-api-version
  name: 'func-mcp'
}

resource app 'Microsoft.Graph/applications@beta' existing = { // want: existing-api-version
  uniqueName: 'mcp-app'
}

// Deployed, not existing: its API version is not this rule's business.
resource plan 'Microsoft.Web/serverfarms@2024-04-01-preview' = {
  name: 'plan-mcp'
  location: 'westus'
}

module other 'other.bicep' = {
  name: 'other'
}

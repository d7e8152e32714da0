// Stable, well-formed, one version per type: nothing here may be reported.
extension microsoftGraphV1

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'stmcp'
}

resource app 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: 'mcp-app'
}

module other 'other.bicep' = {
  name: 'other'
}
